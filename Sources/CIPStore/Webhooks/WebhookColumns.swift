import CIPDomain

/// How a webhook is stored, read by column name on both backends.
enum WebhookColumns {
    static let names =
        "id, organization_type, organization_id, network_id, url, events, created_at, state, delivered_through, "
        + "last_delivery_at, last_error, failing_since, attempts, skipped"

    static func decode(_ row: any StoredRow) throws -> Webhook {
        let typeText = try row.requiredText("organization_type")
        guard let type = OrganizationType(rawValue: typeText) else {
            throw StoredRowError.invalid("organization_type", typeText)
        }
        let eventsText = try row.requiredText("events")
        guard let events = Webhook.events(from: eventsText) else { throw StoredRowError.invalid("events", eventsText) }
        let stateText = try row.requiredText("state")
        guard let state = Webhook.State(rawValue: stateText) else { throw StoredRowError.invalid("state", stateText) }
        return Webhook(
            id: try row.requiredInteger("id"),
            organization: OrganizationRef(type: type, id: try row.requiredInteger("organization_id")),
            networkID: try row.requiredInteger("network_id"), url: try row.requiredText("url"), events: events,
            createdAt: Timestamp(milliseconds: try row.requiredInteger("created_at")), state: state,
            deliveredThrough: try row.requiredInteger("delivered_through"),
            lastDeliveryAt: try row.integer("last_delivery_at").map(Timestamp.init(milliseconds:)),
            lastError: try row.text("last_error"),
            failingSince: try row.integer("failing_since").map(Timestamp.init(milliseconds:)),
            attempts: Int(try row.requiredInteger("attempts")), skipped: try row.requiredInteger("skipped"))
    }

    static func insert(_ dialect: SQLDialect) -> String {
        let placeholders = (1...8).map(dialect.placeholder).joined(separator: ", ")
        return """
            INSERT INTO webhooks (organization_type, organization_id, network_id, url, events, sealed_secret,
                created_at, delivered_through)
            VALUES (\(placeholders)) RETURNING \(names)
            """
    }

    /// The values of a new webhook, in `insert`'s order.
    static func values(of definition: WebhookDefinition, createdAt: Timestamp, after sequence: Int64) -> [StoredValue] {
        [
            .text(definition.organization.type.rawValue), .integer(definition.organization.id),
            .integer(definition.networkID), .text(definition.url),
            .text(definition.events.map(\.rawValue).joined(separator: ",")), .text(definition.sealedSecret),
            .integer(createdAt.milliseconds), .integer(sequence),
        ]
    }
}
