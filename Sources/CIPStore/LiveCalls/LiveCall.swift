import CIPDomain

/// A live call as a node holds it in memory: the keys SPEC 2.2 and 2.4 find it by, its place in
/// SPEC 2.2's order, and its call object already written as JSON — not the record's dictionaries (a
/// million live calls must fit in a gigabyte): a write rebuilds the record from the object.
/// A class, so that the indexes and every answer share one copy.
final class LiveCall: Sendable {
    let transactionID: String
    let networkID: Int64
    /// 0 for none (ids are positive): a plain integer packs tighter than an optional.
    private let advertiserIDOrZero: Int64
    var advertiserID: Int64? { advertiserIDOrZero == 0 ? nil : advertiserIDOrZero }
    let externalUniqueID: String?
    let callingPhoneNumber: String
    let destinationPhoneNumber: String
    let transferStart: Timestamp
    let version: Int64
    let object: CallObjectJSON
    /// The bookkeeping a write needs beside the call object, to rebuild the record without reading
    /// the file (`record`); `unknown` for a call learned from the change log (PostgreSQL's nodes,
    /// whose writes read the database under the call's lock anyway).
    private let lastEventAt: Timestamp
    private let lastReceivedAt: Timestamp
    private static let unknown = Timestamp(milliseconds: .min)

    /// `written`: the record's call object, when the write already wrote it (its change record's).
    init(_ record: CallRecord, written: WrittenObject? = nil) {
        transactionID = record.transactionID
        networkID = record.networkID
        advertiserIDOrZero = record.advertiserID ?? 0
        externalUniqueID = record.externalUniqueID
        callingPhoneNumber = record.callingPhoneNumber
        destinationPhoneNumber = record.destinationPhoneNumber
        transferStart = record.transferStart
        version = record.version
        if let written, written.version == record.version {
            object = CallObjectJSON(json: Array(written.json.utf8))
        } else {
            object = Self.exactly(CallObjectJSON(record))
        }
        lastEventAt = record.lastEventAt
        lastReceivedAt = record.lastReceivedAt
    }

    /// The call as a change of the log left it (not an end: an ended call is not live).
    init(_ change: LoggedChange) throws {
        guard let fields = JSONValue.parse(text: change.call)?.objectValue,
            let calling = fields["calling_phone_number"]?.stringValue,
            let destination = fields["destination_phone_number"]?.stringValue,
            let transfer = fields["transfer_start_time_utc"]?.stringValue.flatMap(Timestamp.init(iso8601:)),
            case .integer(let version) = fields["version"]
        else { throw StoredRowError.invalid("call", change.transactionID) }
        transactionID = change.transactionID
        networkID = change.networkID
        advertiserIDOrZero = change.advertiserID ?? 0
        externalUniqueID = fields["external_unique_id"]?.stringValue
        callingPhoneNumber = calling
        destinationPhoneNumber = destination
        transferStart = transfer
        self.version = version
        object = CallObjectJSON(json: Array(change.call.utf8))
        lastEventAt = Self.unknown
        lastReceivedAt = Self.unknown
    }

    /// The whole record, rebuilt from the call object and the bookkeeping; nil when they are unknown.
    func record() -> CallRecord? {
        guard lastReceivedAt != Self.unknown else { return nil }
        return recordDecidingUpdates()
    }

    /// The record rebuilt from the call object, its bookkeeping possibly unknown: enough to decide
    /// what an update changes (`CallUpdate.applied` reads no bookkeeping), never to be written.
    func recordDecidingUpdates() -> CallRecord? {
        CallRecord(
            liveCallObject: object, networkID: networkID, lastEventAt: lastEventAt, lastReceivedAt: lastReceivedAt)
    }

    /// The object in an array of its own size: a writer's buffer keeps the spare room it grew with,
    /// and a million live calls would keep it too.
    private static func exactly(_ object: CallObjectJSON) -> CallObjectJSON {
        let bytes = object.bytes
        return CallObjectJSON(
            json: [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
                count = buffer.initialize(fromContentsOf: bytes)
            })
    }

    var position: CallPosition { CallPosition(transferStart: transferStart, transactionID: transactionID) }

    var phonePair: PhonePair { PhonePair(calling: callingPhoneNumber, destination: destinationPhoneNumber) }

    /// SPEC 2.2's order: most recently transferred first, ties by transaction id ascending.
    static func listedBefore(_ first: LiveCall, _ second: LiveCall) -> Bool {
        if first.transferStart != second.transferStart { return first.transferStart > second.transferStart }
        return first.transactionID < second.transactionID
    }

    /// Whether this call is in `scope` (its network's, or its advertiser's own).
    func isVisible(to scope: CallScope) -> Bool {
        scope.contains(networkID: networkID, advertiserID: advertiserID)
    }

    /// True when `query` selects this call (on its page's side of the cursor).
    func matches(_ query: CallQuery) -> Bool {
        guard isVisible(to: query.scope) else { return false }
        if let after = query.page.after, !after.isFollowed(by: position) { return false }
        if let transactionID = query.transactionID, self.transactionID != transactionID { return false }
        if let externalUniqueID = query.externalUniqueID, self.externalUniqueID != externalUniqueID { return false }
        if let pair = query.phonePair,
            callingPhoneNumber != pair.calling || destinationPhoneNumber != pair.destination
        {
            return false
        }
        return true
    }

    /// True when this is the call `selector` names within `scope` (SPEC 2.4).
    func isSelected(by selector: CallSelector, in scope: CallScope) -> Bool {
        guard isVisible(to: scope) else { return false }
        if let transactionID = selector.transactionID, self.transactionID != transactionID { return false }
        if let externalUniqueID = selector.externalUniqueID {
            guard networkID == scope.organization.networkID, self.externalUniqueID == externalUniqueID
            else { return false }
        }
        return true
    }
}

/// A live call's object as a write wrote it for its change record, at the call's version then.
struct WrittenObject: Sendable {
    let version: Int64
    let json: String
}
