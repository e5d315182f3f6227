import CIPDomain

/// SPEC 9's webhooks: their definitions, their progress through the change log, and the lease that
/// lets one node at a time deliver each.
public protocol WebhookStore: DatabaseStore {
    /// Stores a new webhook that starts after every change committed so far.
    func createWebhook(_ definition: WebhookDefinition, createdAt: Timestamp) async throws -> Webhook
    /// Every webhook, oldest first.
    func webhooks() async throws -> [Webhook]
    /// A webhook's sealed secret (`WebhookSecretSeal`); nil when there is no such webhook.
    func sealedWebhookSecret(id: Int64) async throws -> String?
    /// Removes a webhook; nil when there is none.
    func deleteWebhook(id: Int64) async throws -> Webhook?
    /// Stops a webhook (`cip admin webhook disable`, or the delivery's own verdict), saying why.
    func disableWebhook(id: Int64, reason: String?) async throws -> Webhook?
    /// Starts a disabled webhook again: after the last change it was given if the log still holds
    /// the next one, otherwise after the log's latest change, counting what it passes over.
    func enableWebhook(id: Int64) async throws -> Webhook?
    /// Takes or renews the lease on a webhook for `owner` until `until`; false when another owner
    /// holds an unexpired lease (or the webhook is gone or disabled).
    func leaseWebhook(id: Int64, owner: String, until: Timestamp, now: Timestamp) async throws -> Bool
    /// Gives up every lease `owner` holds (a node stopping gracefully).
    func releaseWebhookLeases(owner: String) async throws
    /// Saves a delivery round's outcome, only while `owner` holds the lease (false otherwise).
    func saveWebhookProgress(id: Int64, owner: String, _ progress: WebhookProgress) async throws -> Bool
    /// How many changes after the webhook's cursor it has yet to be given.
    func pendingWebhookChanges(_ webhook: Webhook) async throws -> Int
}

/// What `webhook create` stores.
public struct WebhookDefinition: Sendable, Hashable {
    public let organization: OrganizationRef
    public let networkID: Int64
    public let url: String
    public let events: [CallChange.Kind]
    public let sealedSecret: String

    public init(
        organization: OrganizationRef, networkID: Int64, url: String, events: [CallChange.Kind], sealedSecret: String
    ) {
        self.organization = organization
        self.networkID = networkID
        self.url = url
        self.events = events
        self.sealedSecret = sealedSecret
    }
}

/// A delivery round's outcome, as stored.
public struct WebhookProgress: Sendable, Hashable {
    public var state: Webhook.State
    public var deliveredThrough: Int64
    public var lastDeliveryAt: Timestamp?
    public var lastError: String?
    public var failingSince: Timestamp?
    public var attempts: Int

    public init(_ webhook: Webhook) {
        state = webhook.state
        deliveredThrough = webhook.deliveredThrough
        lastDeliveryAt = webhook.lastDeliveryAt
        lastError = webhook.lastError
        failingSince = webhook.failingSince
        attempts = webhook.attempts
    }
}

/// The webhooks' table of either backend: its rules written once, over the backend's `StatementRunner`.
public struct WebhookTable: WebhookStore, ChangeLogStore {
    private let runner: any StatementRunner & ChangeLogStore
    private var dialect: SQLDialect { runner.dialect }

    init(_ runner: any StatementRunner & ChangeLogStore) {
        self.runner = runner
    }

    public func migrate() async throws { try await runner.migrate() }
    public func ping() async throws { try await runner.ping() }

    public func changes(
        after sequence: Int64, visibleTo organization: OrganizationRef?, limit: Int
    ) async throws
        -> [LoggedChange]
    {
        try await runner.changes(after: sequence, visibleTo: organization, limit: limit)
    }

    public func changeLogBounds() async throws -> ChangeLogBounds { try await runner.changeLogBounds() }

    private func run<T: Sendable>(
        _ sql: String, _ values: [StoredValue], writes: Bool, _ decode: @escaping @Sendable (any StoredRow) throws -> T
    ) async throws -> [T] {
        try await runner.run(sql, values, writes: writes, decode)
    }

    public func createWebhook(_ definition: WebhookDefinition, createdAt: Timestamp) async throws -> Webhook {
        // Changes committed after this read are the webhook's (SPEC 9: no replay of older ones).
        let latest = try await changeLogBounds().latest
        let rows = try await run(
            WebhookColumns.insert(dialect), WebhookColumns.values(of: definition, createdAt: createdAt, after: latest),
            writes: true, WebhookColumns.decode)
        guard let webhook = rows.first else {
            throw StoreFailure(CatalogError.invalidArgument("insert returned no row"))
        }
        return webhook
    }

    public func webhooks() async throws -> [Webhook] {
        try await run(
            "SELECT \(WebhookColumns.names) FROM webhooks ORDER BY id", [], writes: false, WebhookColumns.decode)
    }

    public func sealedWebhookSecret(id: Int64) async throws -> String? {
        try await run(
            "SELECT sealed_secret FROM webhooks WHERE id = \(dialect.placeholder(1))", [.integer(id)], writes: false
        ) { try $0.requiredText("sealed_secret") }.first
    }

    public func deleteWebhook(id: Int64) async throws -> Webhook? {
        try await run(
            "DELETE FROM webhooks WHERE id = \(dialect.placeholder(1)) RETURNING \(WebhookColumns.names)",
            [.integer(id)], writes: true, WebhookColumns.decode
        ).first
    }

    public func disableWebhook(id: Int64, reason: String?) async throws -> Webhook? {
        var bound = SQLConditions(dialect)
        let sql = """
            UPDATE webhooks SET state = 'disabled', last_error = COALESCE(\(bound.bind(reason.map(StoredValue.text) ?? .null)), last_error),
                lease_owner = NULL, lease_until = NULL
            WHERE id = \(bound.bind(.integer(id))) RETURNING \(WebhookColumns.names)
            """
        return try await run(sql, bound.values, writes: true, WebhookColumns.decode).first
    }

    public func enableWebhook(id: Int64) async throws -> Webhook? {
        guard let webhook = try await webhooks().first(where: { $0.id == id }) else { return nil }
        guard webhook.state == .disabled else { return webhook }
        let bounds = try await changeLogBounds()
        var resumeAfter = webhook.deliveredThrough
        var skipped: Int64 = 0
        if webhook.deliveredThrough < bounds.purgedThrough {
            // The next change it was owed is purged: it starts from now, passing over what is left.
            resumeAfter = bounds.latest
            skipped = Int64(try await pendingWebhookChanges(webhook))
        }
        var bound = SQLConditions(dialect)
        let sql = """
            UPDATE webhooks SET state = 'active', delivered_through = \(bound.bind(.integer(resumeAfter))),
                skipped = skipped + \(bound.bind(.integer(skipped))), attempts = 0, failing_since = NULL
            WHERE id = \(bound.bind(.integer(id))) AND state = 'disabled' RETURNING \(WebhookColumns.names)
            """
        if let enabled = try await run(sql, bound.values, writes: true, WebhookColumns.decode).first { return enabled }
        return try await webhooks().first(where: { $0.id == id })
    }

    public func leaseWebhook(id: Int64, owner: String, until: Timestamp, now: Timestamp) async throws -> Bool {
        var bound = SQLConditions(dialect)
        let sql = """
            UPDATE webhooks SET lease_owner = \(bound.bind(.text(owner))), lease_until = \(bound.bind(.integer(until.milliseconds)))
            WHERE id = \(bound.bind(.integer(id))) AND state <> 'disabled'
                AND (lease_owner IS NULL OR lease_owner = \(bound.bind(.text(owner)))
                    OR lease_until < \(bound.bind(.integer(now.milliseconds))))
            RETURNING id
            """
        return try await !run(sql, bound.values, writes: true) { try $0.requiredInteger("id") }.isEmpty
    }

    public func releaseWebhookLeases(owner: String) async throws {
        _ = try await run(
            "UPDATE webhooks SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = \(dialect.placeholder(1)) RETURNING id",
            [.text(owner)], writes: true
        ) { try $0.requiredInteger("id") }
    }

    public func saveWebhookProgress(id: Int64, owner: String, _ progress: WebhookProgress) async throws -> Bool {
        var bound = SQLConditions(dialect)
        let through = StoredValue.integer(progress.deliveredThrough)
        // Never backwards, and never over a `disable` that came in meanwhile.
        let sql = """
            UPDATE webhooks SET state = \(bound.bind(.text(progress.state.rawValue))),
                delivered_through = \(bound.bind(through)),
                last_delivery_at = \(bound.bind(progress.lastDeliveryAt.map { .integer($0.milliseconds) } ?? .null)),
                last_error = \(bound.bind(progress.lastError.map(StoredValue.text) ?? .null)),
                failing_since = \(bound.bind(progress.failingSince.map { .integer($0.milliseconds) } ?? .null)),
                attempts = \(bound.bind(.integer(Int64(progress.attempts))))
            WHERE id = \(bound.bind(.integer(id))) AND lease_owner = \(bound.bind(.text(owner)))
                AND state <> 'disabled' AND delivered_through <= \(bound.bind(through))
            RETURNING id
            """
        return try await !run(sql, bound.values, writes: true) { try $0.requiredInteger("id") }.isEmpty
    }

    public func pendingWebhookChanges(_ webhook: Webhook) async throws -> Int {
        var conditions = SQLConditions(dialect)
        conditions.and("sequence", .integer(webhook.deliveredThrough), comparison: ">")
        switch webhook.organization.type {
        case .network: conditions.and("network_id", .integer(webhook.organization.id))
        case .advertiser: conditions.and("advertiser_id", .integer(webhook.organization.id))
        }
        conditions.and("kind", in: webhook.events.map { .text($0.rawValue) })
        return try await run(
            "SELECT COUNT(*) AS pending FROM call_changes WHERE \(conditions.sql)", conditions.values, writes: false
        ) { Int(try $0.requiredInteger("pending")) }.first ?? 0
    }
}

extension SQLiteDatabase {
    public var webhookTable: WebhookTable { WebhookTable(self) }
}

extension PostgresDatabase {
    public var webhookTable: WebhookTable { WebhookTable(self) }
}
