import Crypto
import Foundation

/// A webhook's signing secret and the Standard Webhooks signature (SPEC 9): `whsec_` and the base64
/// of 32 random bytes; `v1,<base64 of HMAC-SHA256 of "<id>.<timestamp>.<body>">`.
public struct WebhookSecret: Sendable, Hashable {
    public static let prefix = "whsec_"
    /// The HMAC key: the bytes after the prefix, base64-decoded.
    public let key: [UInt8]

    public init(key: [UInt8]) {
        self.key = key
    }

    /// A new secret of 32 bytes from the system's random source.
    public static func generate() -> WebhookSecret {
        var generator = SystemRandomNumberGenerator()
        return WebhookSecret(key: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// `whsec_<base64>`, as it is shown once to the user; nil when it is not one.
    public init?(text: String) {
        guard text.hasPrefix(Self.prefix), let key = Data(base64Encoded: String(text.dropFirst(Self.prefix.count))),
            !key.isEmpty
        else { return nil }
        self.key = Array(key)
    }

    public var text: String { Self.prefix + Data(key).base64EncodedString() }

    /// The `webhook-signature` header's value for one attempt.
    public func signature(id: String, timestamp: Int64, body: [UInt8]) -> String {
        var content = Array("\(id).\(timestamp).".utf8)
        content += body
        let code = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: key))
        return "v1," + Data(code).base64EncodedString()
    }
}
