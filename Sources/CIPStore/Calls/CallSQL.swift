import CIPDomain

/// The statements about calls that both backends run, written once from `CallColumns` and the
/// rules of `CallState`; each backend only binds their values and reads the rows.
enum CallSQL {
    static let isLive = "state = '\(CallState.live.rawValue)'"
    static let isCompleted = "state = '\(CallState.completed.rawValue)'"
    static let hasEnded = "state <> '\(CallState.live.rawValue)'"

    /// The live calls whose last event was received before a cutoff: SPEC 4's expiry.
    static func expiring(_ dialect: SQLDialect, cutoff: Timestamp) -> (sql: String, values: [StoredValue]) {
        var conditions = SQLConditions(dialect, isLive)
        conditions.and("last_received_at", .integer(cutoff.milliseconds), comparison: "<")
        return (
            "SELECT \(CallColumns.names) FROM calls WHERE \(conditions.sql) ORDER BY transaction_id", conditions.values
        )
    }

    /// The live calls of one advertiser, by transaction id.
    static func liveOfAdvertiser(_ dialect: SQLDialect, _ advertiserID: Int64) -> (sql: String, values: [StoredValue]) {
        var conditions = SQLConditions(dialect, isLive)
        conditions.and("advertiser_id", .integer(advertiserID))
        return (
            "SELECT \(CallColumns.names) FROM calls WHERE \(conditions.sql) ORDER BY transaction_id", conditions.values
        )
    }

    /// Up to `limit` ended calls received before a cutoff (SPEC 5's retention), by transaction id.
    static func purgeable(_ dialect: SQLDialect, cutoff: Timestamp, limit: Int) -> (sql: String, values: [StoredValue])
    {
        var conditions = SQLConditions(dialect, hasEnded)
        conditions.and("last_received_at", .integer(cutoff.milliseconds), comparison: "<")
        let limitPlaceholder = conditions.bind(.integer(Int64(limit)))
        return ("SELECT transaction_id FROM calls WHERE \(conditions.sql) LIMIT \(limitPlaceholder)", conditions.values)
    }

    /// The completed calls SPEC 6's export selects, oldest end first.
    static func completed(_ dialect: SQLDialect, _ filter: CompletedCallFilter) -> (sql: String, values: [StoredValue])
    {
        var conditions = SQLConditions(dialect, isCompleted)
        if let networkID = filter.networkID { conditions.and("network_id", .integer(networkID)) }
        if let advertiserID = filter.advertiserID { conditions.and("advertiser_id", .integer(advertiserID)) }
        if let since = filter.since { conditions.and("ended_at", .integer(since.milliseconds), comparison: ">=") }
        if let until = filter.until { conditions.and("ended_at", .integer(until.milliseconds), comparison: "<") }
        return (
            "SELECT \(CallColumns.names) FROM calls WHERE \(conditions.sql) ORDER BY ended_at, transaction_id",
            conditions.values
        )
    }

    /// The live calls an organization may see (SPEC 2.2's filters, in its order).
    static func current(_ dialect: SQLDialect, _ query: CallQuery) -> (sql: String, values: [StoredValue]) {
        var conditions = SQLConditions(dialect, isLive)
        let organization = query.scope.organization.ref
        switch organization.type {
        case .network: conditions.and("network_id", .integer(organization.id))
        case .advertiser: conditions.and("advertiser_id", .integer(organization.id))
        }
        if let transactionID = query.transactionID { conditions.and("transaction_id", .text(transactionID)) }
        if let externalUniqueID = query.externalUniqueID {
            conditions.and("external_unique_id", .text(externalUniqueID))
        }
        if let pair = query.phonePair {
            conditions.and("calling_phone_number", .text(pair.calling))
            conditions.and("destination_phone_number", .text(pair.destination))
        }
        if let after = query.page.after { conditions.and(after: after) }
        var sql =
            "SELECT \(CallColumns.names) FROM calls WHERE \(conditions.sql) ORDER BY transfer_start DESC, transaction_id ASC"
        // One more than the page holds: whether it is there says whether a next page follows.
        if let limit = query.page.limit { sql += " LIMIT \(conditions.bind(.integer(Int64(limit) + 1)))" }
        return (sql, conditions.values)
    }

    /// The live call a PUT names; the caller still checks the scope.
    static func selected(
        _ dialect: SQLDialect, _ selector: CallSelector, in scope: CallScope
    ) -> (sql: String, values: [StoredValue]) {
        var conditions = SQLConditions(dialect, isLive)
        if let transactionID = selector.transactionID { conditions.and("transaction_id", .text(transactionID)) }
        if let externalUniqueID = selector.externalUniqueID {
            conditions.and("network_id", .integer(scope.organization.networkID))
            conditions.and("external_unique_id", .text(externalUniqueID))
        }
        return ("SELECT \(CallColumns.names) FROM calls WHERE \(conditions.sql)", conditions.values)
    }
}
