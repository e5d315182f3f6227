import CIPDomain

/// A client's copy of an organization's calls in progress, kept from the change stream (SPEC 8): the
/// snapshot, then every change. It refuses what a lossless stream can never send — a change out of
/// sequence order or sent twice, a call bridged twice, an update or end of a call it does not hold —
/// so a test that ends with `calls` equal to `current_calls` has seen nothing missed or repeated.
public struct CallsMirror: Sendable {
    /// Calls in progress by transaction id.
    public private(set) var calls: [String: JSONValue] = [:]
    /// The last sequence number applied: what to resume after.
    public private(set) var lastSequence: Int64?
    /// After a `reset`, until its snapshot.
    public private(set) var awaitingSnapshot = true

    public init() {}

    public struct Inconsistency: Error, CustomStringConvertible {
        public let description: String
    }

    /// What one event did.
    public enum Applied: Sendable, Equatable {
        case snapshot(count: Int)
        case change(type: String, transactionID: String, changed: [String])
        case reset
        case overflow
        case other
    }

    public mutating func apply(_ event: ServerSentEvent) throws -> Applied {
        switch event.event {
        case "reset":
            awaitingSnapshot = true
            return .reset
        case "overflow":
            return .overflow
        case "snapshot":
            guard let data = JSONValue.parse(text: event.data), let sequence = data.member("sequence")?.integer,
                let list = data.member("current_calls")?.arrayValue
            else { throw Inconsistency(description: "unreadable snapshot") }
            calls = [:]
            for call in list {
                guard let id = call.member("transaction_id")?.stringValue else {
                    throw Inconsistency(description: "snapshot call without transaction_id")
                }
                calls[id] = call
            }
            lastSequence = sequence
            awaitingSnapshot = false
            return .snapshot(count: list.count)
        case "call_bridged", "call_updated", "call_ended":
            return try applyChange(event)
        default:
            return .other
        }
    }

    private mutating func applyChange(_ event: ServerSentEvent) throws -> Applied {
        guard !awaitingSnapshot else { throw Inconsistency(description: "\(event.event) before any snapshot") }
        guard let data = JSONValue.parse(text: event.data), let sequence = data.member("sequence")?.integer,
            let call = data.member("call"), let id = call.member("transaction_id")?.stringValue,
            let changed = data.member("changed")?.arrayValue?.compactMap(\.stringValue)
        else { throw Inconsistency(description: "unreadable \(event.event)") }
        guard event.id == String(sequence), data.member("type")?.stringValue == event.event else {
            throw Inconsistency(description: "event \(event.event) id \(event.id ?? "none") does not match its data")
        }
        if let lastSequence, sequence <= lastSequence {
            throw Inconsistency(description: "sequence \(sequence) after \(lastSequence): repeated or out of order")
        }
        switch event.event {
        case "call_bridged":
            guard calls[id] == nil else { throw Inconsistency(description: "\(id) bridged while held") }
            calls[id] = call
        case "call_updated":
            guard calls[id] != nil else { throw Inconsistency(description: "\(id) updated but not held") }
            calls[id] = call
        default:
            guard calls[id] != nil else { throw Inconsistency(description: "\(id) ended but not held") }
            calls[id] = nil
        }
        lastSequence = sequence
        return .change(type: event.event, transactionID: id, changed: changed)
    }
}

extension JSONValue {
    fileprivate func member(_ key: String) -> JSONValue? { objectValue?[key] }

    fileprivate var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }
}
