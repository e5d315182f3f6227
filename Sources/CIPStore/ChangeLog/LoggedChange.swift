import CIPDomain

/// A change as the change log gives it back (SPEC 8): its sequence number and what the stream sends.
public struct LoggedChange: Sendable, Hashable {
    public let sequence: Int64
    public let kind: CallChange.Kind
    public let transactionID: String
    public let networkID: Int64
    public let advertiserID: Int64?
    /// Set when the change moved the call to another advertiser: the one it left, 0 when it had none.
    public let previousAdvertiserID: Int64?
    /// SPEC 8's `changed`.
    public let changed: [String]
    /// The call object after the change, as JSON; an ended call's carries `call_end_time_utc` and `end_reason`.
    public let call: String
    /// When the change was committed (its write's time on the service's clock).
    public let committedAt: Timestamp

    public init(
        sequence: Int64, kind: CallChange.Kind, transactionID: String, networkID: Int64, advertiserID: Int64?,
        previousAdvertiserID: Int64? = nil, changed: [String], call: String,
        committedAt: Timestamp = Timestamp(milliseconds: 0)
    ) {
        self.sequence = sequence
        self.kind = kind
        self.transactionID = transactionID
        self.networkID = networkID
        self.advertiserID = advertiserID
        self.previousAdvertiserID = previousAdvertiserID
        self.changed = changed
        self.call = call
        self.committedAt = committedAt
    }
}

extension LoggedChange {
    /// SPEC 8's `data` object for this change: what a stream sends and a webhook POSTs (SPEC 9).
    public var eventData: [UInt8] {
        var writer = JSONWriter(capacity: call.utf8.count + 128)
        writer.beginObject()
        writer.key("sequence")
        writer.integer(sequence)
        writer.key("type")
        writer.string(kind.rawValue)
        writer.key("call")
        writer.callObject(CallObjectJSON(json: Array(call.utf8)))
        writer.key("changed")
        writer.beginArray()
        for part in changed { writer.string(part) }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}

/// An organization's calls in progress exactly as of one sequence number: applying every change after
/// `sequence` to `calls` gives the state at any later point.
public struct ChangeSnapshot: Sendable, Hashable {
    public let sequence: Int64
    /// The call objects, in SPEC 2.2's order.
    public let calls: [CallObjectJSON]

    public init(sequence: Int64, calls: [CallObjectJSON]) {
        self.sequence = sequence
        self.calls = calls
    }
}

/// What the change log holds: changes after `purgedThrough` and up to `latest` can be read.
public struct ChangeLogBounds: Sendable, Hashable {
    /// The highest sequence number purged (0 when nothing was).
    public let purgedThrough: Int64
    /// The highest sequence number issued (0 when none was).
    public let latest: Int64

    public init(purgedThrough: Int64, latest: Int64) {
        self.purgedThrough = purgedThrough
        self.latest = latest
    }
}

/// The columns of one change log row, from a change: written once for both backends.
struct ChangeRow: Sendable {
    let transactionID: String
    let networkID: Int64
    let advertiserID: Int64?
    let previousAdvertiserID: Int64?
    let kind: String
    let changed: String
    let call: String

    static let columns =
        "transaction_id, network_id, advertiser_id, previous_advertiser_id, kind, changed, call, committed_at"

    init(_ change: CallChange) {
        transactionID = change.call.transactionID
        networkID = change.call.networkID
        advertiserID = change.call.advertiserID
        previousAdvertiserID = change.previousAdvertiserID
        kind = change.kind.rawValue
        var writer = JSONWriter()
        writer.value(.array(change.changed.map(JSONValue.string)))
        changed = writer.text
        var callWriter = JSONWriter()
        callWriter.writeCall(change.call, asCompleted: change.kind == .ended)
        call = callWriter.text
    }

    /// Reads a change back from the columns `LoggedChange.select` lists.
    static func decode(_ row: some StoredRow) throws -> LoggedChange {
        let kindText = try row.requiredText("kind")
        guard let kind = CallChange.Kind(rawValue: kindText) else { throw StoredRowError.invalid("kind", kindText) }
        let changedText = try row.requiredText("changed")
        guard let changed = JSONValue.parse(text: changedText)?.arrayValue?.compactMap(\.stringValue) else {
            throw StoredRowError.invalid("changed", changedText)
        }
        return LoggedChange(
            sequence: try row.requiredInteger("sequence"), kind: kind,
            transactionID: try row.requiredText("transaction_id"),
            networkID: try row.requiredInteger("network_id"), advertiserID: try row.integer("advertiser_id"),
            previousAdvertiserID: try row.integer("previous_advertiser_id"), changed: changed,
            call: try row.requiredText("call"),
            committedAt: Timestamp(milliseconds: try row.requiredInteger("committed_at")))
    }

    static let selectColumns =
        "sequence, kind, transaction_id, network_id, advertiser_id, previous_advertiser_id, changed, call, committed_at"

    /// An organization's changes after a sequence number (every organization's when it is nil), in
    /// order, at most `limit`. An advertiser also sees a change that moved a call away from it.
    static func after(
        _ dialect: SQLDialect, _ sequence: Int64, visibleTo organization: OrganizationRef?, limit: Int
    ) -> (sql: String, values: [StoredValue]) {
        var conditions = SQLConditions(dialect)
        conditions.and("sequence", .integer(sequence), comparison: ">")
        switch organization?.type {
        case .network: conditions.and("network_id", .integer(organization!.id))
        case .advertiser:
            conditions.and(anyOf: ["advertiser_id", "previous_advertiser_id"], equal: .integer(organization!.id))
        case nil: break
        }
        let limitPlaceholder = conditions.bind(.integer(Int64(limit)))
        return (
            "SELECT \(selectColumns) FROM call_changes WHERE \(conditions.sql) ORDER BY sequence LIMIT \(limitPlaceholder)",
            conditions.values
        )
    }
}

extension ChangeRow {
    /// Deletes up to `purgeBatchSize` changes committed before `cutoff`, oldest first, returning their
    /// sequence numbers.
    static func purge(_ dialect: SQLDialect, committedBefore cutoff: Timestamp) -> (sql: String, values: [StoredValue])
    {
        var conditions = SQLConditions(dialect, "sequence IS NOT NULL")
        conditions.and("committed_at", .integer(cutoff.milliseconds), comparison: "<")
        let limit = conditions.bind(.integer(Int64(purgeBatchSize)))
        return (
            """
            DELETE FROM call_changes WHERE sequence IN (
                SELECT sequence FROM call_changes WHERE \(conditions.sql) ORDER BY sequence LIMIT \(limit))
            RETURNING sequence
            """,
            conditions.values
        )
    }
}
