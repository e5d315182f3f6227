import CIPDomain
import CIPStore
import Hummingbird

/// SPEC 4: the telephony layer's feed of call lifecycle events.
struct TelephonyController: Sendable {
    static let maxEventsPerRequest = 1000
    let services: APIServices

    /// `POST .../telephony/call_events.json`
    func post(_ request: CheckedRequest) async throws -> Response {
        let body = request.body
        let bodyErrors = request.validationErrors()
        guard bodyErrors.isEmpty else { throw DomainError.invalid(bodyErrors) }
        let rawEvents: [JSONValue]
        if let batch = body["events"] {
            guard case .array(let elements) = batch else {
                throw DomainError.invalid("events", "must be a list of event objects")
            }
            guard elements.count <= Self.maxEventsPerRequest else {
                throw DomainError.invalid("events", "must have at most \(Self.maxEventsPerRequest) events")
            }
            rawEvents = elements
        } else {
            rawEvents = [.object(body)]
        }
        try request.authorizeTelephony()

        let receivedAt = services.clock()
        let named = rawEvents.compactMap(CallEventParser.transactionID(of:))
        var catalog = try await catalogFor(rawEvents)
        var results: [EventResult?]
        do {
            results = try await apply(rawEvents, naming: named, catalog: catalog, receivedAt: receivedAt, mayMiss: true)
        } catch is CatalogMiss {
            // A stored call's network or field this node has not heard of yet: made a moment ago elsewhere.
            catalog = try await services.catalog.reload()
            results = try await apply(
                rawEvents, naming: named, catalog: catalog, receivedAt: receivedAt, mayMiss: false)
        }
        for result in results { if let result { services.metrics.recordEvent(result.status) } }
        return APIResponse.json(.ok) { writer in
            writer.beginObject()
            writer.key("results")
            writer.beginArray()
            for result in results.compactMap({ $0 }) { writer.writeEventResult(result) }
            writer.endArray()
            writer.endObject()
        }
    }

    /// Parses and applies the events in one transaction of the store, which reads each named call
    /// once, under its lock: events of known calls may leave `network_id` out, and an event naming a
    /// call of another network is rejected with its other errors, not instead of them.
    private func apply(
        _ rawEvents: [JSONValue], naming named: [String], catalog: Catalog, receivedAt: Timestamp, mayMiss: Bool
    ) async throws -> [EventResult?] {
        let (parsed, outcomes) = try await services.store.apply(naming: named, receivedAt: receivedAt) { stored in
            var networks = stored
            // A call the request itself introduces takes the network its first event gives.
            for raw in rawEvents {
                guard let transactionID = CallEventParser.transactionID(of: raw), networks[transactionID] == nil,
                    let network = CallEventParser.networkID(of: raw)
                else { continue }
                networks[transactionID] = network
            }
            if mayMiss, Self.misses(catalog, rawEvents, networks: networks) { throw CatalogMiss() }
            let parser = CallEventParser(catalog: catalog)
            let known = networks
            // Each event is checked on its own: a long batch is checked on every core at once.
            let checked = ParallelWork.map(rawEvents) { raw in
                parser.parse(
                    raw, storedNetworkID: CallEventParser.transactionID(of: raw).flatMap { known[$0] },
                    newTransactionID: { TransactionID.generate(at: receivedAt) })
            }
            var results: [EventResult?] = []
            var accepted: [(index: Int, event: CallEvent)] = []
            for (index, (raw, outcome)) in zip(rawEvents, checked).enumerated() {
                switch outcome {
                case .success(let event):
                    accepted.append((index, event))
                    results.append(nil)
                case .failure(let errors):
                    results.append(
                        EventResult(
                            transactionID: CallEventParser.transactionID(of: raw), status: .rejected, errors: errors))
                }
            }
            return ((results, accepted), accepted.map(\.event))
        }
        var (results, accepted) = parsed
        for (entry, outcome) in zip(accepted, outcomes) {
            results[entry.index] = Self.result(entry.event.transactionID, outcome)
        }
        return results
    }

    /// Whether `catalog` lacks the stored network of a call an event names without `network_id`, or a
    /// field the event sets in it. (Events that give `network_id` were checked by `catalogFor`, before
    /// the transaction: an unknown field there is the sender's error, not a reason to reload again.)
    private static func misses(_ catalog: Catalog, _ rawEvents: [JSONValue], networks: [String: Int64]) -> Bool {
        for raw in rawEvents where CallEventParser.networkID(of: raw) == nil {
            guard let transactionID = CallEventParser.transactionID(of: raw), let network = networks[transactionID]
            else { continue }
            guard catalog.networks[network] != nil else { return true }
            if case .array(let items)? = raw.objectValue?["custom_data"] {
                for item in items {
                    if let name = item.objectValue?["name"]?.stringValue,
                        !catalog.knowsField(name, value: item.objectValue?["value"], inNetwork: network)
                    {
                        return true
                    }
                }
            }
        }
        return false
    }

    /// A catalog snapshot that knows every network and advertiser the events name, if they exist.
    private func catalogFor(_ rawEvents: [JSONValue]) async throws -> Catalog {
        var networks: Set<Int64> = []
        var advertisers: Set<Int64> = []
        var fieldValues: [(name: String, value: JSONValue?)] = []
        for raw in rawEvents {
            guard let members = raw.objectValue else { continue }
            if let id = members["network_id"]?.positiveID { networks.insert(id) }
            if let id = members["advertiser_id"]?.positiveID { advertisers.insert(id) }
            if case .array(let items)? = members["custom_data"] {
                for item in items {
                    if let name = item.objectValue?["name"]?.stringValue {
                        fieldValues.append((name, item.objectValue?["value"]))
                    }
                }
            }
        }
        return try await services.catalog.catalog { catalog in
            networks.allSatisfy { catalog.networks[$0] != nil }
                && advertisers.allSatisfy { catalog.advertisers[$0] != nil }
                && fieldValues.allSatisfy { field in
                    networks.contains { catalog.knowsField(field.name, value: field.value, inNetwork: $0) }
                }
        }
    }

    private static func result(_ transactionID: String, _ outcome: CallLifecycle.Outcome) -> EventResult {
        switch outcome {
        case .applied: return EventResult(transactionID: transactionID, status: .applied)
        case .duplicate: return EventResult(transactionID: transactionID, status: .duplicate)
        case .ignored: return EventResult(transactionID: transactionID, status: .ignored)
        case .rejected(let errors): return EventResult(transactionID: transactionID, status: .rejected, errors: errors)
        }
    }
}

/// The catalog lacks the network of a stored call the request names.
private struct CatalogMiss: Error {}

extension JSONWriter {
    mutating func writeEventResult(_ result: EventResult) {
        beginObject()
        key("transaction_id")
        if let transactionID = result.transactionID { string(transactionID) } else { null() }
        key("status")
        string(result.status.rawValue)
        if let errors = result.errors {
            key("errors")
            writeValidationErrors(errors)
        }
        endObject()
    }
}
