import ArgumentParser
import CIPDomain
import Foundation

/// The webhook flags `serve` and `admin webhook create` share (SPEC 9), each also read from the
/// environment.
struct WebhookOptions: ParsableArguments {
    @Flag(help: "Allow http:// webhook URLs (env CIP_ALLOW_INSECURE_WEBHOOKS=1).")
    var allowInsecureWebhooks = false

    @Flag(
        help:
            "Allow webhook targets on loopback, private, link-local or multicast addresses, for tests and closed networks (env CIP_ALLOW_PRIVATE_WEBHOOK_TARGETS=1)."
    )
    var allowPrivateWebhookTargets = false

    @Option(
        help:
            "File holding the key that seals webhook secrets at rest; the same file for every process of a deployment. Default: beside an SQLite database, <database>.webhook-key, created by the first `webhook create`; required on PostgreSQL (env CIP_WEBHOOK_KEY_FILE)."
    )
    var webhookKeyFile: String?

    var policy: WebhookTargetPolicy {
        WebhookTargetPolicy(
            allowInsecure: allowInsecureWebhooks || Environment.flag("CIP_ALLOW_INSECURE_WEBHOOKS"),
            allowPrivate: allowPrivateWebhookTargets || Environment.flag("CIP_ALLOW_PRIVATE_WEBHOOK_TARGETS"))
    }

    /// The key file's path: the flag, the environment, or beside an SQLite database.
    func keyFile(for database: DatabaseOption) -> String? {
        if let given = webhookKeyFile ?? Environment.value("CIP_WEBHOOK_KEY_FILE") { return given }
        return database.isPostgres ? nil : database.database + ".webhook-key"
    }

    /// The sealing key; nil when there is no key file (and `create` is false). With `create`, a missing
    /// default file is made, readable by its owner only.
    func sealingKey(for database: DatabaseOption, create: Bool) throws -> WebhookSealingKey? {
        guard let path = keyFile(for: database) else {
            if create {
                throw CatalogError.invalidArgument(
                    "webhooks on PostgreSQL need --webhook-key-file (the same key file on every node)")
            }
            return nil
        }
        if create && !FileManager.default.fileExists(atPath: path) {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if descriptor >= 0 {
                let text = Array(WebhookSealingKey.generateFileText().utf8)
                let written = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                close(descriptor)
                guard written == text.count else {
                    throw CatalogError.invalidArgument("could not write the webhook key file \(path)")
                }
            }
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            if create { throw CatalogError.invalidArgument("cannot read the webhook key file \(path)") }
            return nil
        }
        guard let key = WebhookSealingKey(fileText: String(decoding: data, as: UTF8.self)) else {
            throw CatalogError.invalidArgument("\(path) does not hold a webhook key (the base64 of 32 bytes)")
        }
        return key
    }
}
