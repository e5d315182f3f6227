import CIPDomain
import CIPStore
import Hummingbird

/// SPEC 4: the telephony layer's feed of call lifecycle events.
struct TelephonyController: Sendable {
    static let maxEventsPerRequest = 1000
    let services: APIServices

    /// `POST .../telephony/call_events.json`
    func post(_ request: Request, context: some RequestContext) async throws -> Response {
        let payload = await RequestPayload.read(request, limit: services.settings.maxBodyBytes)
        let token = try await services.authenticate(request, payload: payload)
        let body = try payload.members()
        var tokenErrors = ValidationErrors()
        RequestPayload.checkToken(body, errors: &tokenErrors)
        guard tokenErrors.isEmpty else { throw DomainError.invalid(tokenErrors) }
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
        guard AccessPolicy.allowsTelephony(token) else { throw DomainError.notAuthorized }

        let receivedAt = services.clock()
        let storedNetworks = try await networksOfKnownCalls(rawEvents)
        let catalog = try await catalogFor(rawEvents, knownNetworks: Set(storedNetworks.values))
        let parser = CallEventParser(catalog: catalog)
        var results: [EventResult?] = []
        var accepted: [(index: Int, event: CallEvent)] = []
        for (index, raw) in rawEvents.enumerated() {
            let transactionID = CallEventParser.transactionID(of: raw)
            let storedNetwork = transactionID.flatMap { storedNetworks[$0] }
            switch parser.parse(raw, storedNetworkID: storedNetwork, newTransactionID: { TransactionID.generate(at: receivedAt) }) {
            case .success(let event):
                accepted.append((index, event))
                results.append(nil)
            case .failure(let errors):
                results.append(EventResult(transactionID: transactionID, status: .rejected, errors: errors))
            }
        }
        let outcomes = try await services.store.apply(accepted.map(\.event), receivedAt: receivedAt)
        for (entry, outcome) in zip(accepted, outcomes) {
            results[entry.index] = Self.result(entry.event.transactionID, outcome)
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

    /// The network of each named call: stored, or given by an earlier event of the same request.
    /// Read for every event, even those that give `network_id`, so that a rejection for a transaction
    /// id of another network is reported with the event's other errors, not instead of them.
    private func networksOfKnownCalls(_ rawEvents: [JSONValue]) async throws -> [String: Int64] {
        var fromRequest: [String: Int64] = [:]
        var named: [String] = []
        for raw in rawEvents {
            guard let transactionID = CallEventParser.transactionID(of: raw) else { continue }
            if let network = CallEventParser.networkID(of: raw) {
                if fromRequest[transactionID] == nil { fromRequest[transactionID] = network }
            }
            named.append(transactionID)
        }
        var networks = try await services.store.networkIDs(ofCalls: Array(Set(named)))
        for (transactionID, network) in fromRequest where networks[transactionID] == nil {
            networks[transactionID] = network
        }
        return networks
    }

    /// A catalog snapshot that knows every network and advertiser the events name, if they exist.
    private func catalogFor(_ rawEvents: [JSONValue], knownNetworks: Set<Int64>) async throws -> Catalog {
        // Events of known calls may leave network_id out: their fields are looked up in the call's network.
        var networks = knownNetworks
        var advertisers: Set<Int64> = []
        var fieldNames: Set<String> = []
        for raw in rawEvents {
            guard let members = raw.objectValue else { continue }
            if let id = members["network_id"]?.positiveID { networks.insert(id) }
            if let id = members["advertiser_id"]?.positiveID { advertisers.insert(id) }
            if case .array(let items)? = members["custom_data"] {
                for item in items { if let name = item.objectValue?["name"]?.stringValue { fieldNames.insert(name) } }
            }
        }
        return try await services.catalog.catalog { catalog in
            networks.allSatisfy { catalog.networks[$0] != nil } && advertisers.allSatisfy { catalog.advertisers[$0] != nil }
                && fieldNames.allSatisfy { name in networks.contains { catalog.fields(ofNetwork: $0)[name] != nil } }
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
