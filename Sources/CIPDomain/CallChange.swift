/// One committed change to a call in progress, as the change log keeps it (SPEC 8).
public struct CallChange: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case bridged = "call_bridged"
        case updated = "call_updated"
        case ended = "call_ended"
    }

    public let kind: Kind
    /// The parts of the call object a `call_updated` changed, in SPEC 8's names; empty otherwise.
    public let changed: [String]
    /// The call after the change.
    public let call: CallRecord
    /// Set when this change moved the call to another advertiser: the advertiser it left, or 0 when
    /// it had none. Both advertisers' streams start over (SPEC 8): the call left one and entered the
    /// other, which neither change event can say.
    public let previousAdvertiserID: Int64?

    public init(kind: Kind, changed: [String], call: CallRecord, previousAdvertiserID: Int64? = nil) {
        self.kind = kind
        self.changed = changed
        self.call = call
        self.previousAdvertiserID = previousAdvertiserID
    }

    /// The change that turned `before` (nil: never seen) into `after`, or nil when the call object of
    /// SPEC 2.3 did not change (a no-op, a repeat, or a call that was never bridged).
    public static func between(_ before: CallRecord?, _ after: CallRecord) -> CallChange? {
        guard after.wasBridged else { return nil }
        guard let before, before.isLive else {
            return after.isLive ? CallChange(kind: .bridged, changed: [], call: after) : nil
        }
        let moved = before.advertiserID != after.advertiserID ? (before.advertiserID ?? 0) : nil
        if !after.isLive { return CallChange(kind: .ended, changed: [], call: after, previousAdvertiserID: moved) }
        let changed = after.changedParts(since: before)
        return changed.isEmpty
            ? nil : CallChange(kind: .updated, changed: changed, call: after, previousAdvertiserID: moved)
    }
}

extension CallChange {
    /// The change a write made, for records already `versioned`: only a new version can carry one,
    /// so the call objects are compared once (by `versioned`), not again here.
    public static func made(from before: CallRecord?, to after: CallRecord) -> CallChange? {
        guard after.version != (before?.version ?? 0) else { return nil }
        return between(before, after)
    }
}

extension CallRecord {
    /// The parts of the call object that differ from `earlier`, by their API names, in a fixed order.
    public func changedParts(since earlier: CallRecord) -> [String] {
        var parts: [String] = []
        func note(_ name: String, _ differs: Bool) { if differs { parts.append(name) } }
        note("call_status", status != earlier.status)
        note("external_unique_id", externalUniqueID != earlier.externalUniqueID)
        note("calling_phone_number", callingPhoneNumber != earlier.callingPhoneNumber)
        note("destination_phone_number", destinationPhoneNumber != earlier.destinationPhoneNumber)
        note("call_start_time_utc", callStart != earlier.callStart)
        note("transfer_start_time_utc", transferStart != earlier.transferStart)
        note("advertiser_id", advertiserID != earlier.advertiserID)
        for name in optionalCallAttributes { note(name, attributes[name] != earlier.attributes[name]) }
        for name in Set(customData.keys).union(earlier.customData.keys).sorted() {
            note("custom_data.\(name)", customData[name] != earlier.customData[name])
        }
        return parts
    }

    /// The record as `change` leaves it: the version grows by one with every change of the call object.
    public func versioned(after earlier: CallRecord?) -> CallRecord {
        var record = self
        if let earlier {
            record.version = CallChange.between(earlier, self) == nil ? earlier.version : earlier.version + 1
        } else {
            record.version = wasBridged ? 1 : 0
        }
        return record
    }
}
