import CIPDomain
import CIPStore
import Hummingbird

/// SPEC 2.2 and 2.4: finding and updating calls in progress.
struct CallsController: Sendable {
    let services: APIServices
    private let polled = ListQueryMemo()

    init(services: APIServices) {
        self.services = services
    }

    /// `GET .../calls_in_progress/current_calls.json`
    func currentCalls(_ request: CheckedRequest) async throws -> Response {
        let ifNoneMatch = request.request.headers[.ifNoneMatch]
        let rawQuery = request.request.uri.query ?? ""
        // A poller asking again for a list it was already answered: no parsing, no authorizing.
        var memoChecked: CallQuery?
        if let ifNoneMatch, let query = polled.query(tokenID: request.token.id, rawQuery: rawQuery) {
            if let known = try await services.store.knownListingETag(query), Self.matchesWeakly(ifNoneMatch, known) {
                return Response(status: .notModified, headers: [.eTag: known])
            }
            memoChecked = query
        }
        let token = request.token
        let params = request.params
        var errors = request.validationErrors()
        let ref = OrganizationParams.parse(params, errors: &errors)
        let transactionID = OrganizationParams.transactionID(params, errors: &errors)
        let externalUniqueID = OrganizationParams.externalUniqueID(params, errors: &errors)
        var catalog = Catalog()
        var organization: ResolvedOrganization?
        if let ref { (catalog, organization) = try await services.catalog.resolve(ref, for: token) }
        let country = organization.flatMap { catalog.networks[$0.networkID]?.country } ?? "US"
        let phonePair = Self.phonePair(params, country: country, errors: &errors)
        let binding = ref.map {
            ListCursor.Binding(
                organization: $0, transactionID: transactionID, externalUniqueID: externalUniqueID, phonePair: phonePair
            )
        }
        let page = Self.page(params, binding: binding, errors: &errors)
        guard errors.isEmpty, let binding else { throw DomainError.invalid(errors) }
        let scope = CallScope(try request.authorize(organization, toAct: .read))
        let query = CallQuery(
            scope: scope, transactionID: transactionID, externalUniqueID: externalUniqueID,
            phonePair: phonePair, page: page)

        // SPEC 2.7: a poller whose list has not changed is answered 304, without listing it again
        // when the store remembers the list's tag.
        if ifNoneMatch != nil { polled.remember(query, tokenID: token.id, rawQuery: rawQuery) }
        // (Not twice for one query: on PostgreSQL each look waits for the log's head.)
        if let ifNoneMatch, query != memoChecked, let known = try await services.store.knownListingETag(query),
            Self.matchesWeakly(ifNoneMatch, known)
        {
            return Response(status: .notModified, headers: [.eTag: known])
        }
        let listing = try await services.store.currentCallListing(query, rememberingETag: ifNoneMatch != nil)
        if let ifNoneMatch, Self.matchesWeakly(ifNoneMatch, listing.etag) {
            return Response(status: .notModified, headers: [.eTag: listing.etag])
        }
        let size = listing.calls.reduce(64) { $0 + $1.bytes.count + 1 }
        return APIResponse.json(.ok, headers: [.eTag: listing.etag], capacity: size) { writer in
            writer.beginObject()
            writer.key("current_calls")
            writer.beginArray()
            for call in listing.calls { writer.callObject(call) }
            writer.endArray()
            if let next = listing.next {
                writer.key("next_cursor")
                writer.string(ListCursor.encode(next, for: binding))
            }
            writer.endObject()
        }
    }

    /// SPEC 2.8's `limit` (1–1,000) and `cursor` (one this list issued).
    private static func page(
        _ params: QueryParameters, binding: ListCursor.Binding?, errors: inout ValidationErrors
    ) -> CallPage {
        var limit: Int?
        if let text = params["limit"] {
            if let value = Int(text), (1...1000).contains(value) {
                limit = value
            } else {
                errors.add("limit", "must be an integer from 1 to 1000")
            }
        }
        var after: CallPosition?
        if let text = params["cursor"], let binding {
            after = ListCursor.decode(text, for: binding)
            if after == nil { errors.add("cursor", "is not a cursor of this list (its organization and filters)") }
        }
        return CallPage(limit: limit, after: after)
    }

    /// `If-None-Match` (RFC 9110 13.1.2): `*`, or a list of tags compared weakly.
    private static func matchesWeakly(_ header: String, _ etag: String) -> Bool {
        if header == etag { return true }  // what a poller sends: the tag it was given
        if header.utf8.contains(UInt8(ascii: "*")),
            header.utf8.allSatisfy({ $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
        {
            return true
        }
        return EntityTagList.parse(header).contains { $0 == etag || $0 == "W/" + etag }
    }

    /// `PUT` or `POST .../calls_in_progress.json`
    func update(_ request: CheckedRequest) async throws -> Response {
        let token = request.token
        let params = request.params
        var errors = request.validationErrors()
        let ref = OrganizationParams.parse(params, errors: &errors)
        let selector = CallSelector(
            transactionID: OrganizationParams.transactionID(params, errors: &errors),
            externalUniqueID: OrganizationParams.externalUniqueID(params, errors: &errors))
        if params["transaction_id"] == nil && params["external_unique_id"] == nil {
            errors.add("transaction_id", "is required unless external_unique_id is given")
        }
        let (newExternalID, items) = Self.parseBody(request.body, errors: &errors)
        guard let ref else { throw DomainError.invalid(errors) }

        let (catalog, organization) = try await services.catalog.resolve(ref, for: token, writing: items)
        let allowed = AccessPolicy.allows(token, toAct: .write, for: organization)
        // Field checks need the network, so they wait for the organization; a caller who may act for
        // it still hears every offending part at once, and SPEC's 403-before-401 order holds.
        var writes: [CustomDataWrite] = []
        if let organization, allowed {
            writes = CustomDataRequest.resolve(
                items, fields: catalog.fields(ofNetwork: organization.networkID), defaultSource: publicAPISource,
                errors: &errors)
        }
        guard errors.isEmpty else { throw DomainError.invalid(errors) }
        let scope = CallScope(try request.authorize(organization, toAct: .write))

        let precondition = request.request.headers[.ifMatch].map(IfMatch.init(header:))
        let update = CallUpdate(externalUniqueID: newExternalID, customData: writes, precondition: precondition)
        let call = try await services.store.updateCallObject(selector, in: scope, update)
        return APIResponse.json(.ok, headers: [.eTag: call.etag], capacity: call.object.bytes.count + 32) { writer in
            writer.beginObject()
            writer.key("current_call")
            writer.callObject(call.object)
            writer.endObject()
        }
    }

    /// Checks the shape of `{"call_in_progress": {...}}`; field types are checked once the network is known.
    private static func parseBody(
        _ body: [String: JSONValue], errors: inout ValidationErrors
    )
        -> (String?, [CustomDataItem])
    {
        guard let raw = body["call_in_progress"] else {
            errors.add("call_in_progress", "is required")
            return (nil, [])
        }
        guard let update = raw.objectValue else {
            errors.add("call_in_progress", "must be an object")
            return (nil, [])
        }
        if update["external_unique_id"] == nil && update["custom_data"] == nil {
            errors.add("call_in_progress", "must contain external_unique_id or custom_data")
        }
        var externalUniqueID: String?
        if let rawID = update["external_unique_id"] {
            if let text = rawID.stringValue {
                if let problem = ExternalUniqueID.problem(with: text) {
                    errors.add("external_unique_id", problem)
                } else {
                    externalUniqueID = text
                }
            } else if rawID == .null {
                errors.add("external_unique_id", "must not be null: it can be replaced, not removed")
            } else {
                errors.add("external_unique_id", "must be a string")
            }
        }
        var items: [CustomDataItem] = []
        if let rawCustomData = update["custom_data"] {
            items = CustomDataRequest.parseShape(rawCustomData, allowSource: false, errors: &errors)
        }
        return (externalUniqueID, items)
    }

    /// SPEC 2.2: both numbers or neither, each normalized with the network's country.
    private static func phonePair(
        _ params: QueryParameters, country: String, errors: inout ValidationErrors
    ) -> PhonePair? {
        let calling = params.phoneNumber("calling_phone_number")
        let destination = params.phoneNumber("destination_phone_number")
        if calling == nil && destination == nil { return nil }
        var numbers: [String] = []
        for (name, value, other) in [
            ("calling_phone_number", calling, "destination_phone_number"),
            ("destination_phone_number", destination, "calling_phone_number"),
        ] {
            guard let value else {
                errors.add(name, "is required when \(other) is given")
                continue
            }
            guard let number = PhoneNumber.normalize(value, defaultCountry: country) else {
                errors.add(name, "is not a valid phone number")
                continue
            }
            numbers.append(number)
        }
        guard numbers.count == 2 else { return nil }
        return PhonePair(calling: numbers[0], destination: numbers[1])
    }
}
