import CIPDomain
import CIPStore
import Hummingbird

/// SPEC 2.9: data left for a caller's next call, applied when that call is bridged.
struct PreCallController: Sendable {
    let services: APIServices

    /// `PUT` or `POST .../calls_in_progress/pre_call_data.json`: stores an entry (replacing the one for
    /// the same numbers).
    func put(_ request: CheckedRequest) async throws -> Response {
        var errors = request.validationErrors()
        let ref = OrganizationParams.parse(request.params, errors: &errors)
        let input = Self.parseBody(request.body, errors: &errors)
        guard let ref else { throw DomainError.invalid(errors) }
        let (catalog, organization) = try await services.catalog.resolve(
            ref, for: request.token, writing: input.items)
        let allowed = AccessPolicy.allows(request.token, toAct: .write, for: organization)
        // As in SPEC 2.4: the field checks need the network, and only a caller who may act for it hears them.
        var entry: PreCallData?
        if let organization, allowed {
            let country = catalog.networks[organization.networkID]?.country ?? "US"
            let calling = Self.number(input.calling, "calling_phone_number", country: country, errors: &errors)
            let destination = input.destination.flatMap {
                Self.number($0, "destination_phone_number", country: country, errors: &errors)
            }
            let writes = CustomDataRequest.resolve(
                input.items, fields: catalog.fields(ofNetwork: organization.networkID), defaultSource: preCallSource,
                errors: &errors)
            if let calling {
                let now = Timestamp.now()
                entry = PreCallData(
                    organization: ref, networkID: organization.networkID, callingPhoneNumber: calling,
                    destinationPhoneNumber: destination, externalUniqueID: input.externalUniqueID, customData: writes,
                    createdAt: now, expiresAt: now.advanced(by: .seconds(input.expiresIn)))
            }
        }
        guard errors.isEmpty else { throw DomainError.invalid(errors) }
        _ = try request.authorize(organization, toAct: .write)
        guard let entry else { throw DomainError.notAuthorized }
        let stored = try await services.store.putPreCallData(entry)
        return APIResponse.json(.created) { writer in
            writer.beginObject()
            writer.key("pre_call_data")
            writer.writePreCallEntry(stored)
            writer.endObject()
        }
    }

    /// `GET .../pre_call_data.json`: the organization's pending entries, newest first.
    func list(_ request: CheckedRequest) async throws -> Response {
        var errors = request.validationErrors()
        let ref = OrganizationParams.parse(request.params, errors: &errors)
        guard errors.isEmpty, let ref else { throw DomainError.invalid(errors) }
        let (_, organization) = try await services.catalog.resolve(ref, for: request.token)
        _ = try request.authorize(organization, toAct: .read)
        let entries = try await services.store.preCallData(for: ref, now: .now())
        return APIResponse.json(.ok) { writer in
            writer.beginObject()
            writer.key("pre_call_data")
            writer.beginArray()
            for entry in entries { writer.writePreCallEntry(entry) }
            writer.endArray()
            writer.endObject()
        }
    }

    /// `DELETE .../pre_call_data.json?...&calling_phone_number=...[&destination_phone_number=...]`
    func withdraw(_ request: CheckedRequest) async throws -> Response {
        var errors = request.validationErrors()
        let params = request.params
        let ref = OrganizationParams.parse(params, errors: &errors)
        var catalog = Catalog()
        var organization: ResolvedOrganization?
        if let ref { (catalog, organization) = try await services.catalog.resolve(ref, for: request.token) }
        let country = organization.flatMap { catalog.networks[$0.networkID]?.country } ?? "US"
        let calling: String?
        if let text = params.phoneNumber("calling_phone_number") {
            calling = Self.number(text, "calling_phone_number", country: country, errors: &errors)
        } else {
            errors.add("calling_phone_number", "is required")
            calling = nil
        }
        let destination = params.phoneNumber("destination_phone_number").flatMap {
            Self.number($0, "destination_phone_number", country: country, errors: &errors)
        }
        guard errors.isEmpty, let ref, let calling else { throw DomainError.invalid(errors) }
        _ = try request.authorize(organization, toAct: .write)
        guard
            let withdrawn = try await services.store.withdrawPreCallData(
                for: ref, calling: calling, destination: destination, now: .now())
        else { throw DomainError.notFound }
        return APIResponse.json(.ok) { writer in
            writer.beginObject()
            writer.key("pre_call_data")
            writer.writePreCallEntry(withdrawn)
            writer.endObject()
        }
    }

    private struct Input {
        var calling: String?
        var destination: String?
        var externalUniqueID: String?
        var items: [CustomDataItem] = []
        var expiresIn: Int64 = 600
    }

    /// Checks the shape of `{"pre_call_data": {...}}`; numbers and fields are checked once the network is known.
    private static func parseBody(_ body: [String: JSONValue], errors: inout ValidationErrors) -> Input {
        var input = Input()
        guard let raw = body["pre_call_data"] else {
            errors.add("pre_call_data", "is required")
            return input
        }
        guard let members = raw.objectValue else {
            errors.add("pre_call_data", "must be an object")
            return input
        }
        switch members["calling_phone_number"] {
        case nil: errors.add("calling_phone_number", "is required")
        case let value?:
            if let text = value.scalarText, !text.isEmpty {
                input.calling = text
            } else {
                errors.add("calling_phone_number", "must be a phone number")
            }
        }
        if let value = members["destination_phone_number"] {
            if let text = value.scalarText, !text.isEmpty {
                input.destination = text
            } else {
                errors.add("destination_phone_number", "must be a phone number")
            }
        }
        if members["external_unique_id"] == nil && members["custom_data"] == nil {
            errors.add("pre_call_data", "must contain external_unique_id or custom_data")
        }
        if let value = members["external_unique_id"] {
            if let text = value.stringValue {
                if let problem = ExternalUniqueID.problem(with: text) {
                    errors.add("external_unique_id", problem)
                } else {
                    input.externalUniqueID = text
                }
            } else {
                errors.add("external_unique_id", "must be a string")
            }
        }
        if let rawCustomData = members["custom_data"] {
            input.items = CustomDataRequest.parseShape(rawCustomData, allowSource: false, errors: &errors)
        }
        if let value = members["expires_in"] {
            if case .integer(let seconds) = value, (1...86_400).contains(seconds) {
                input.expiresIn = seconds
            } else {
                errors.add("expires_in", "must be an integer from 1 to 86400")
            }
        }
        return input
    }

    private static func number(
        _ text: String?, _ name: String, country: String, errors: inout ValidationErrors
    ) -> String? {
        guard let text else { return nil }
        guard let number = PhoneNumber.normalize(text, defaultCountry: country) else {
            errors.add(name, "is not a valid phone number")
            return nil
        }
        return number
    }
}

extension JSONWriter {
    /// An entry as SPEC 2.9 answers it: as stored, numbers normalized, with when it expires.
    mutating func writePreCallEntry(_ stored: PreCallEntry) {
        let entry = stored.data
        beginObject()
        key("calling_phone_number")
        string(entry.callingPhoneNumber)
        key("destination_phone_number")
        if let destination = entry.destinationPhoneNumber { string(destination) } else { null() }
        key("external_unique_id")
        if let externalID = entry.externalUniqueID { string(externalID) } else { null() }
        key("custom_data")
        writeCustomData(entry.customDataByName)
        key("created_at")
        timestamp(entry.createdAt)
        key("expires_at")
        timestamp(entry.expiresAt)
        endObject()
    }
}
