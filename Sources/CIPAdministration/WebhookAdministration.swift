import CIPDomain
import CIPStore

/// SPEC 9's `cip admin webhook` operations.
public struct WebhookAdministration: Sendable {
    public let catalog: any AdminStore
    public let webhooks: any WebhookStore

    public init(catalog: any AdminStore, webhooks: any WebhookStore) {
        self.catalog = catalog
        self.webhooks = webhooks
    }

    /// Creates a webhook for an existing organization; returns it and its secret, shown only now.
    public func create(
        organization: OrganizationRef, url: String, events: String?, policy: WebhookTargetPolicy,
        sealingKey: WebhookSealingKey, now: Timestamp
    ) async throws -> (webhook: Webhook, secret: WebhookSecret) {
        let networkID = try await network(of: organization)
        if case .failure(let refusal) = policy.check(url: url) {
            throw CatalogError.invalid(field: "url", message: refusal.description)
        }
        var kinds = CallChange.Kind.allCases
        if let events {
            guard let parsed = Webhook.events(from: events) else {
                throw CatalogError.invalid(
                    field: "event", message: "must list call_bridged, call_updated and/or call_ended, comma-separated")
            }
            kinds = parsed
        }
        let secret = WebhookSecret.generate()
        let webhook = try await webhooks.createWebhook(
            WebhookDefinition(
                organization: organization, networkID: networkID, url: url, events: kinds,
                sealedSecret: try sealingKey.seal(secret)),
            createdAt: now)
        return (webhook, secret)
    }

    /// Every webhook, with how many changes each has yet to be given.
    public func list() async throws -> [(webhook: Webhook, pending: Int)] {
        var listed: [(Webhook, Int)] = []
        for webhook in try await webhooks.webhooks() {
            listed.append((webhook, try await webhooks.pendingWebhookChanges(webhook)))
        }
        return listed
    }

    public func delete(id: Int64) async throws -> Webhook {
        try found(id, try await webhooks.deleteWebhook(id: id))
    }

    public func disable(id: Int64) async throws -> Webhook {
        try found(id, try await webhooks.disableWebhook(id: id, reason: nil))
    }

    public func enable(id: Int64) async throws -> Webhook {
        try found(id, try await webhooks.enableWebhook(id: id))
    }

    private func found(_ id: Int64, _ webhook: Webhook?) throws -> Webhook {
        guard let webhook else { throw CatalogError.unknown("webhook \(id)") }
        return webhook
    }

    private func network(of organization: OrganizationRef) async throws -> Int64 {
        let catalog = try await catalog.loadCatalog()
        switch organization.type {
        case .network:
            guard catalog.networks[organization.id] != nil else {
                throw CatalogError.unknown("network \(organization.id)")
            }
            return organization.id
        case .advertiser:
            guard let advertiser = catalog.advertisers[organization.id] else {
                throw CatalogError.unknown("advertiser \(organization.id)")
            }
            return advertiser.networkID
        }
    }
}
