import CIPDomain

/// One column of the `calls` table: its name, its type, and how it is read from a call.
struct CallColumn: Sendable {
    let name: String
    let type: StoredType
    let value: @Sendable (CallRecord) -> StoredValue
    /// Whether two states of a call store the same value in this column.
    let isUnchanged: @Sendable (CallRecord, CallRecord) -> Bool

    /// `isUnchanged` compares the `value`s unless given: the JSON columns compare what they are
    /// written from, without writing it.
    init(
        name: String, type: StoredType, isUnchanged: (@Sendable (CallRecord, CallRecord) -> Bool)? = nil,
        value: @escaping @Sendable (CallRecord) -> StoredValue
    ) {
        self.name = name
        self.type = type
        self.value = value
        self.isUnchanged = isUnchanged ?? { value($0) == value($1) }
    }
}

/// The one description of how a call is stored. Both backends build their selects, upserts and
/// decoders from it, by name: adding a column means a line here, one in `decode`, and a migration
/// per backend.
enum CallColumns {
    static let all: [CallColumn] = [
        CallColumn(name: "transaction_id", type: .text) { .text($0.transactionID) },
        CallColumn(name: "network_id", type: .integer) { .integer($0.networkID) },
        CallColumn(name: "advertiser_id", type: .integer) { $0.advertiserID.map(StoredValue.integer) ?? .null },
        CallColumn(name: "state", type: .text) { .text($0.state.rawValue) },
        CallColumn(name: "call_status", type: .text) { .text($0.status.rawValue) },
        CallColumn(name: "external_unique_id", type: .text) { $0.externalUniqueID.map(StoredValue.text) ?? .null },
        CallColumn(name: "calling_phone_number", type: .text) { .text($0.callingPhoneNumber) },
        CallColumn(name: "destination_phone_number", type: .text) { .text($0.destinationPhoneNumber) },
        CallColumn(name: "call_start", type: .integer) { .integer($0.callStart.milliseconds) },
        CallColumn(name: "transfer_start", type: .integer) { .integer($0.transferStart.milliseconds) },
        CallColumn(
            name: "attributes", type: .text, isUnchanged: { $0.attributes == $1.attributes },
            value: { .text($0.attributesJSON) }),
        CallColumn(
            name: "custom_data", type: .text, isUnchanged: { $0.customData == $1.customData },
            value: { .text($0.customDataJSON) }),
        CallColumn(name: "last_event_at", type: .integer) { .integer($0.lastEventAt.milliseconds) },
        CallColumn(name: "last_received_at", type: .integer) { .integer($0.lastReceivedAt.milliseconds) },
        CallColumn(name: "ended_at", type: .integer) { $0.ended.map { .integer($0.at.milliseconds) } ?? .null },
        CallColumn(name: "end_reason", type: .text) { $0.ended.map { .text($0.reason.rawValue) } ?? .null },
        CallColumn(name: "version", type: .integer) { .integer($0.version) },
    ]

    /// `transaction_id, network_id, …`: the select list and insert list of every statement.
    static let names = all.map(\.name).joined(separator: ", ")

    /// `network_id = excluded.network_id, …`: an upsert's update of every column but the key.
    static let upsertAssignments = all.dropFirst().map { "\($0.name) = excluded.\($0.name)" }
        .joined(separator: ", ")

    static func values(of record: CallRecord) -> [StoredValue] {
        all.map { $0.value(record) }
    }

    /// The columns whose values differ between two states of a call.
    static func changed(from before: CallRecord, to after: CallRecord) -> [CallColumn] {
        all.filter { !$0.isUnchanged(before, after) }
    }

    static func decode(_ row: some StoredRow) throws -> CallRecord {
        let stateText = try row.requiredText("state")
        guard let state = CallState(rawValue: stateText) else { throw StoredRowError.invalid("state", stateText) }
        let statusText = try row.requiredText("call_status")
        guard let status = CallStatus(rawValue: statusText) else {
            throw StoredRowError.invalid("call_status", statusText)
        }
        var ending: CallEnding?
        if state != .live {
            let reasonText = try row.requiredText("end_reason")
            guard let reason = EndReason(rawValue: reasonText) else {
                throw StoredRowError.invalid("end_reason", reasonText)
            }
            ending = CallEnding(at: Timestamp(milliseconds: try row.requiredInteger("ended_at")), reason: reason)
        }
        return CallRecord(
            transactionID: try row.requiredText("transaction_id"), networkID: try row.requiredInteger("network_id"),
            advertiserID: try row.integer("advertiser_id"), status: status,
            externalUniqueID: try row.text("external_unique_id"),
            callingPhoneNumber: try row.requiredText("calling_phone_number"),
            destinationPhoneNumber: try row.requiredText("destination_phone_number"),
            callStart: Timestamp(milliseconds: try row.requiredInteger("call_start")),
            transferStart: Timestamp(milliseconds: try row.requiredInteger("transfer_start")),
            attributes: CallRecord.attributes(fromJSON: try row.requiredText("attributes")),
            customData: CallRecord.customData(fromJSON: try row.requiredText("custom_data")),
            lastEventAt: Timestamp(milliseconds: try row.requiredInteger("last_event_at")),
            lastReceivedAt: Timestamp(milliseconds: try row.requiredInteger("last_received_at")),
            ended: ending, wasBridged: state != .neverBridged, version: try row.requiredInteger("version"))
    }
}
