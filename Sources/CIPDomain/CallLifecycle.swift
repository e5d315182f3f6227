/// SPEC 4's rules for applying a telephony event to what is stored about its call.
public enum CallLifecycle {
    public enum Outcome: Sendable, Hashable {
        case duplicate
        case ignored
        case rejected(ValidationErrors)
        /// The new stored state of the call.
        case applied(CallRecord)
    }

    /// Decides what `event` does to `existing` (nil when the call was never seen).
    ///
    /// Repeats are duplicates; events older than the newest applied one are ignored; an ended call is
    /// a tombstone that nothing revives; a `call_ended` for an unknown call records the tombstone so
    /// its late `call_bridged` is ignored too.
    public static func apply(
        _ event: CallEvent, to existing: CallRecord?, alreadySeen: Bool, receivedAt: Timestamp
    ) -> Outcome {
        if alreadySeen { return .duplicate }
        guard let existing else { return first(event, receivedAt: receivedAt) }
        var record = existing
        if record.networkID != event.networkID {
            return .rejected(errors("transaction_id", "is already used by a call of another network"))
        }
        if !record.isLive || event.occurredAt < record.lastEventAt { return .ignored }
        record.lastEventAt = event.occurredAt
        record.lastReceivedAt = receivedAt
        record.attributes.merge(event.attributes) { _, new in new }
        record.merge(event.customData)
        if let advertiserID = event.advertiserID { record.advertiserID = advertiserID }
        switch event.kind {
        case .bridged:
            // A newer bridge of a live call is a re-transfer: new destination, new transfer time.
            record.status = .bridged
            record.transferStart = event.occurredAt
            if let destination = event.destinationPhoneNumber { record.destinationPhoneNumber = destination }
            if let calling = event.callingPhoneNumber { record.callingPhoneNumber = calling }
        case .updated:
            if let status = event.status { record.status = status }
        case .ended:
            record.ended = CallEnding(at: event.occurredAt, reason: .ended)
        }
        return .applied(record.versioned(after: existing))
    }

    /// The call as the service's expiry leaves it (SPEC 4): ended as `expired`, on the service's clock.
    public static func expire(_ record: CallRecord, now: Timestamp) -> CallRecord {
        var expired = record
        expired.ended = CallEnding(at: now, reason: .expired)
        expired.lastReceivedAt = now
        return expired.versioned(after: record)
    }

    private static func first(_ event: CallEvent, receivedAt: Timestamp) -> Outcome {
        switch event.kind {
        case .updated:
            return .rejected(errors("transaction_id", "is not a call in progress (send call_bridged first)"))
        case .bridged, .ended:
            var record = CallRecord(
                transactionID: event.transactionID, networkID: event.networkID, advertiserID: event.advertiserID,
                status: event.status ?? .bridged, externalUniqueID: nil,
                callingPhoneNumber: event.callingPhoneNumber ?? "",
                destinationPhoneNumber: event.destinationPhoneNumber ?? "",
                callStart: event.callStart ?? event.occurredAt, transferStart: event.occurredAt,
                attributes: event.attributes, customData: [:], lastEventAt: event.occurredAt,
                lastReceivedAt: receivedAt, ended: nil, wasBridged: event.kind == .bridged)
            record.merge(event.customData)
            if event.kind == .ended { record.ended = CallEnding(at: event.occurredAt, reason: .ended) }
            return .applied(record.versioned(after: nil))
        }
    }

    private static func errors(_ key: String, _ message: String) -> ValidationErrors {
        var errors = ValidationErrors()
        errors.add(key, message)
        return errors
    }
}
