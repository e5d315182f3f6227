import Crypto
import Foundation

/// What a token is for: acting for an organization, or feeding telephony events.
public enum TokenKind: String, Sendable, Hashable {
    case organization
    case telephony
    /// SPEC 6.1: accepted only on the admin paths, and only it is accepted there.
    case admin
}

/// `read` tokens may only GET; `write` tokens may also PUT and POST.
public enum TokenScope: String, Sendable, Hashable, CaseIterable {
    case read
    case write
}

/// A stored token, as the service sees it: never the token text, only its hash.
public struct TokenRecord: Sendable, Hashable {
    public let id: Int64
    public let hash: TokenHash
    public let kind: TokenKind
    /// Set for organization tokens, nil for telephony tokens.
    public let organization: OrganizationRef?
    public let scope: TokenScope
    public let description: String?
    public let createdAt: Timestamp
    public let revoked: Bool

    public init(
        id: Int64, hash: TokenHash, kind: TokenKind, organization: OrganizationRef?, scope: TokenScope,
        description: String?, createdAt: Timestamp, revoked: Bool
    ) {
        self.id = id
        self.hash = hash
        self.kind = kind
        self.organization = organization
        self.scope = scope
        self.description = description
        self.createdAt = createdAt
        self.revoked = revoked
    }
}

/// The SHA-256 of a token's text, hex encoded: the only form in which tokens are stored.
public struct TokenHash: Sendable, Hashable, CustomStringConvertible {
    public let hex: String

    public init(hex: String) {
        self.hex = hex
    }

    /// Every API request hashes its token: the digest is written straight into the string's storage.
    public init(of token: String) {
        var token = token
        let digest = token.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        hex = String(
            unsafeUninitializedCapacity: 2 * SHA256.byteCount,
            initializingUTF8With: { buffer in
                var count = 0
                for byte in digest {
                    buffer[count] = Self.hexDigit(byte >> 4)
                    buffer[count + 1] = Self.hexDigit(byte & 0x0F)
                    count += 2
                }
                return count
            })
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// Compares in time independent of where the hashes differ. Over the strings' contiguous bytes:
    /// every API request compares, and iterating two `UTF8View`s took a percent of a GET.
    public func constantTimeEquals(_ other: TokenHash) -> Bool {
        var (mine, theirs) = (hex, other.hex)
        return mine.withUTF8 { left in
            theirs.withUTF8 { right in
                guard left.count == right.count else { return false }
                var difference: UInt8 = 0
                for index in 0..<left.count {
                    difference |= left[index] ^ right[index]
                }
                return difference == 0
            }
        }
    }

    /// Never print the hash in full: it identifies a token.
    public var description: String { "TokenHash(\(hex.prefix(6))…)" }
}

/// Makes new token texts: 32 random bytes, URL-safe, with a prefix that says what they are.
public enum TokenGenerator {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let body = (0..<43).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] }
        return "cip_" + String(body)
    }
}
