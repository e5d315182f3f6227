import CIPDomain

/// How pre-call data (SPEC 2.9) is stored, read by column name on both backends. An entry for any
/// destination stores `''`, so the uniqueness of (organization, numbers) holds for it too.
enum PreCallColumns {
    static let names =
        "id, organization_type, organization_id, network_id, calling_phone_number, destination_phone_number, "
        + "external_unique_id, custom_data, created_at, expires_at"

    static func decode(_ row: some StoredRow) throws -> PreCallEntry {
        let typeText = try row.requiredText("organization_type")
        guard let type = OrganizationType(rawValue: typeText) else {
            throw StoredRowError.invalid("organization_type", typeText)
        }
        let destination = try row.requiredText("destination_phone_number")
        let custom = CallRecord.customData(fromJSON: try row.requiredText("custom_data"))
        let data = PreCallData(
            organization: OrganizationRef(type: type, id: try row.requiredInteger("organization_id")),
            networkID: try row.requiredInteger("network_id"),
            callingPhoneNumber: try row.requiredText("calling_phone_number"),
            destinationPhoneNumber: destination.isEmpty ? nil : destination,
            externalUniqueID: try row.text("external_unique_id"),
            customData: custom.keys.sorted().map { CustomDataWrite(name: $0, entry: custom[$0]!) },
            createdAt: Timestamp(milliseconds: try row.requiredInteger("created_at")),
            expiresAt: Timestamp(milliseconds: try row.requiredInteger("expires_at")))
        return PreCallEntry(id: try row.requiredInteger("id"), data: data)
    }

    /// The values of an entry to insert, in `insert`'s order.
    static func values(of entry: PreCallData) -> [StoredValue] {
        var writer = JSONWriter()
        writer.writeCustomData(
            entry.customDataByName)
        return [
            .text(entry.organization.type.rawValue), .integer(entry.organization.id), .integer(entry.networkID),
            .text(entry.callingPhoneNumber), .text(entry.destinationPhoneNumber ?? ""),
            entry.externalUniqueID.map(StoredValue.text) ?? .null, .text(writer.text),
            .integer(entry.createdAt.milliseconds), .integer(entry.expiresAt.milliseconds),
        ]
    }

    static func insert(_ dialect: SQLDialect) -> String {
        let placeholders = (1...9).map(dialect.placeholder).joined(separator: ", ")
        return """
            INSERT INTO pre_call_data (organization_type, organization_id, network_id, calling_phone_number,
                destination_phone_number, external_unique_id, custom_data, created_at, expires_at)
            VALUES (\(placeholders)) RETURNING \(names)
            """
    }

    /// The entry an organization left for these numbers (expired or not).
    static func forNumbers(
        _ dialect: SQLDialect, _ organization: OrganizationRef, calling: String, destination: String?
    ) -> (sql: String, values: [StoredValue]) {
        var conditions = SQLConditions(dialect)
        conditions.and("organization_type", .text(organization.type.rawValue))
        conditions.and("organization_id", .integer(organization.id))
        conditions.and("calling_phone_number", .text(calling))
        conditions.and("destination_phone_number", .text(destination ?? ""))
        return (conditions.sql, conditions.values)
    }

    /// An organization's pending entries, newest first.
    static func pending(
        _ dialect: SQLDialect, _ organization: OrganizationRef, now: Timestamp
    ) -> (sql: String, values: [StoredValue]) {
        var conditions = SQLConditions(dialect)
        conditions.and("organization_type", .text(organization.type.rawValue))
        conditions.and("organization_id", .integer(organization.id))
        conditions.and("expires_at", .integer(now.milliseconds), comparison: ">")
        return ("SELECT \(names) FROM pre_call_data WHERE \(conditions.sql) ORDER BY id DESC", conditions.values)
    }

    /// The pending entries for any of `callers` (the bridges of one write), for the write to choose from.
    static func forCallers(
        _ dialect: SQLDialect, _ callers: [String], now: Timestamp, lock: Bool
    ) -> (sql: String, values: [StoredValue]) {
        var conditions = SQLConditions(dialect)
        conditions.and("expires_at", .integer(now.milliseconds), comparison: ">")
        let list = callers.map { conditions.bind(.text($0)) }.joined(separator: ", ")
        let sql =
            "SELECT \(names) FROM pre_call_data WHERE \(conditions.sql) AND calling_phone_number IN (\(list)) ORDER BY id"
        return (lock ? sql + " FOR UPDATE" : sql, conditions.values)
    }
}
