/// The three lifecycle events of the telephony feed (SPEC 4).
public enum CallEventKind: String, Sendable, Hashable, CaseIterable {
    case bridged = "call_bridged"
    case updated = "call_updated"
    case ended = "call_ended"
}

/// A telephony event that passed every check that does not need the call's stored state.
public struct CallEvent: Sendable, Hashable {
    public let kind: CallEventKind
    public let transactionID: String
    public let networkID: Int64
    public let advertiserID: Int64?
    public let occurredAt: Timestamp
    public let callStart: Timestamp?
    public let callingPhoneNumber: String?
    public let destinationPhoneNumber: String?
    public let status: CallStatus?
    public let attributes: [String: JSONValue]
    public let customData: [CustomDataWrite]

    public init(
        kind: CallEventKind, transactionID: String, networkID: Int64, advertiserID: Int64?, occurredAt: Timestamp,
        callStart: Timestamp?, callingPhoneNumber: String?, destinationPhoneNumber: String?, status: CallStatus?,
        attributes: [String: JSONValue], customData: [CustomDataWrite]
    ) {
        self.kind = kind
        self.transactionID = transactionID
        self.networkID = networkID
        self.advertiserID = advertiserID
        self.occurredAt = occurredAt
        self.callStart = callStart
        self.callingPhoneNumber = callingPhoneNumber
        self.destinationPhoneNumber = destinationPhoneNumber
        self.status = status
        self.attributes = attributes
        self.customData = customData
    }

    /// What makes two deliveries the same event (SPEC 4: same `event`, `transaction_id`, `occurred_at`).
    public var identity: EventIdentity {
        EventIdentity(kind: kind, transactionID: transactionID, occurredAt: occurredAt)
    }
}

public struct EventIdentity: Sendable, Hashable {
    public let kind: CallEventKind
    public let transactionID: String
    public let occurredAt: Timestamp

    public init(kind: CallEventKind, transactionID: String, occurredAt: Timestamp) {
        self.kind = kind
        self.transactionID = transactionID
        self.occurredAt = occurredAt
    }
}

/// How one event of a feed request was taken.
public enum EventStatus: String, Sendable, Hashable {
    case applied
    case duplicate
    case ignored
    case rejected
}

/// One entry of the feed's `results` list, in the order of the events.
public struct EventResult: Sendable, Hashable {
    public let transactionID: String?
    public let status: EventStatus
    public let errors: ValidationErrors?

    public init(transactionID: String?, status: EventStatus, errors: ValidationErrors? = nil) {
        self.transactionID = transactionID
        self.status = status
        self.errors = errors
    }
}
