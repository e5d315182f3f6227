import Crypto
import Foundation

/// The key that seals webhook secrets at rest (AES-256-GCM). The server must sign with a secret, so it
/// cannot keep only a hash as it does for tokens; sealed, a copy of the database alone (a backup, a
/// dump, a stolen file) does not let anyone forge a signature. The key lives outside the database, in
/// a file (`--webhook-key-file`) that every process using the webhooks reads.
public struct WebhookSealingKey: Sendable {
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    private static let prefix = "aes256gcm:"

    /// From a key file's text: the base64 of 32 bytes, surrounding white space ignored.
    public init?(fileText: String) {
        guard let bytes = Data(base64Encoded: fileText.trimmingCharacters(in: .whitespacesAndNewlines)),
            bytes.count == 32
        else { return nil }
        keyBytes = Array(bytes)
    }

    /// A new key file's text.
    public static func generateFileText() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
    }

    public func seal(_ secret: WebhookSecret) throws -> String {
        guard let combined = try AES.GCM.seal(secret.key, using: key).combined else {
            throw WebhookRefusal("the secret could not be sealed")
        }
        return Self.prefix + combined.base64EncodedString()
    }

    /// The secret sealed in `text`; nil when this key did not seal it.
    public func open(_ text: String) -> WebhookSecret? {
        guard text.hasPrefix(Self.prefix),
            let combined = Data(base64Encoded: String(text.dropFirst(Self.prefix.count))),
            let box = try? AES.GCM.SealedBox(combined: combined), let key = try? AES.GCM.open(box, using: key)
        else { return nil }
        return WebhookSecret(key: Array(key))
    }
}
