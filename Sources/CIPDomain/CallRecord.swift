/// Everything stored about one call, live or ended: the call object of SPEC 2.3 and its bookkeeping.
public struct CallRecord: Sendable, Hashable {
    public var transactionID: String
    public var networkID: Int64
    public var advertiserID: Int64?
    public var status: CallStatus
    public var externalUniqueID: String?
    public var callingPhoneNumber: String
    public var destinationPhoneNumber: String
    public var callStart: Timestamp
    public var transferStart: Timestamp
    /// The optional fields of SPEC 2.3 other than `advertiser_id`, by API name, as given.
    public var attributes: [String: JSONValue]
    /// Field name → value and source; names are unique.
    public var customData: [String: CustomDataEntry]
    /// `occurred_at` of the newest applied event: older events are ignored.
    public var lastEventAt: Timestamp
    /// The service's clock when the last event was received: expiry counts from here.
    public var lastReceivedAt: Timestamp
    /// Set once the call has ended; an ended call is a tombstone that late events cannot revive.
    public var ended: CallEnding?
    /// False for a call known only from a `call_ended` that came before its bridge: it was never a
    /// call in progress, and is never listed, streamed or exported.
    public var wasBridged: Bool
    /// SPEC 2.7: 1 once bridged, one more with every change to the call object; 0 for a call never bridged.
    public var version: Int64

    public init(
        transactionID: String, networkID: Int64, advertiserID: Int64?, status: CallStatus,
        externalUniqueID: String?, callingPhoneNumber: String, destinationPhoneNumber: String,
        callStart: Timestamp, transferStart: Timestamp, attributes: [String: JSONValue],
        customData: [String: CustomDataEntry], lastEventAt: Timestamp, lastReceivedAt: Timestamp,
        ended: CallEnding?, wasBridged: Bool = true, version: Int64 = 1
    ) {
        self.transactionID = transactionID
        self.networkID = networkID
        self.advertiserID = advertiserID
        self.status = status
        self.externalUniqueID = externalUniqueID
        self.callingPhoneNumber = callingPhoneNumber
        self.destinationPhoneNumber = destinationPhoneNumber
        self.callStart = callStart
        self.transferStart = transferStart
        self.attributes = attributes
        self.customData = customData
        self.lastEventAt = lastEventAt
        self.lastReceivedAt = lastReceivedAt
        self.ended = ended
        self.wasBridged = wasBridged
        self.version = version
    }

    public var isLive: Bool { ended == nil }

    /// Where the call is in its life, as stored.
    public var state: CallState {
        if ended == nil { return .live }
        return wasBridged ? .completed : .neverBridged
    }

    public mutating func merge(_ writes: [CustomDataWrite]) {
        for write in writes { customData[write.name] = write.entry }
    }
}

/// A stored call's place in its life: explicit, so that no rule has to infer it from other columns.
public enum CallState: String, Sendable, Hashable {
    /// In progress: listed, updated, streamed.
    case live
    /// Ended after being bridged: kept for export (SPEC 5).
    case completed
    /// Recorded from a `call_ended` that came before any bridge, so that the late bridge is ignored.
    case neverBridged = "never_bridged"
}

/// When and why a call ended.
public struct CallEnding: Sendable, Hashable {
    public let at: Timestamp
    public let reason: EndReason

    public init(at: Timestamp, reason: EndReason) {
        self.at = at
        self.reason = reason
    }
}

/// The optional call attributes of SPEC 2.3 that the telephony feed may set, in output order.
/// `advertiser_id` is a column of its own and not listed.
public let optionalCallAttributes: [String] = [
    "called_phone_number", "advertiser_id_from_network", "advertiser_name", "advertiser_campaign_id",
    "advertiser_campaign_id_from_network", "advertiser_campaign_name", "promo_number_id",
    "promo_number_description", "media_type", "phone_type", "city", "region", "zip_code", "call_record_id",
]

/// `optionalCallAttributes`, for membership tests.
let optionalCallAttributeNames = Set(optionalCallAttributes)
