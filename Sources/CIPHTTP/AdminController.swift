import CIPAdministration
import CIPDomain
import Hummingbird
import Logging

/// SPEC 6.1: the admin API. Each route checks that the token is an admin token before anything
/// else, calls the same `Administration` operation `cip admin` does, makes this node's catalog see
/// the change at once, and writes one audit line. The write is done once it returns: if the
/// catalog's refresh fails here, the refresher tries again within a second (a rename is kept until
/// it is carried onto the live calls).
struct AdminController: Sendable {
    let services: APIServices
    var administration: Administration { Administration(store: services.store) }

    // MARK: Networks

    func listNetworks(_ checked: CheckedRequest) async throws -> Response {
        try admit(checked)
        let networks = try await administration.networks()
        audit(checked, "network.list", target: nil)
        return answer(.ok) { $0.writeList("networks", networks) { $0.writeFields(of: $1) } }
    }

    func createNetwork(_ checked: CheckedRequest) async throws -> Response {
        try admit(checked)
        let body = AdminBody(checked)
        let name = try body.requiredString("name")
        let country = try body.string("country")
        try body.rejectOthers(["name", "country"])
        let network = try await administration.createNetwork(name: name, country: country)
        try? await services.refreshCatalog()
        audit(checked, "network.create", target: network.id)
        return answer(.created) { writer in writer.writeNamed("network") { $0.writeFields(of: network) } }
    }

    // MARK: Advertisers

    func listAdvertisers(_ checked: CheckedRequest) async throws -> Response {
        try admit(checked)
        let network = try pathID(checked, "network")
        let advertisers = try await administration.advertisers(networkID: network)
        audit(checked, "advertiser.list", target: network)
        return answer(.ok) { $0.writeList("advertisers", advertisers) { $0.writeFields(of: $1) } }
    }

    func createAdvertiser(_ checked: CheckedRequest) async throws -> Response {
        try admit(checked)
        let network = try pathID(checked, "network")
        let body = AdminBody(checked)
        let name = try body.requiredString("name")
        let fromNetwork = try body.string("id_from_network")
        try body.rejectOthers(["name", "id_from_network"])
        let advertiser = try await administration.createAdvertiser(
            networkID: network, name: name, idFromNetwork: fromNetwork)
        try? await services.refreshCatalog()
        audit(checked, "advertiser.create", target: advertiser.id)
        return answer(.created) { writer in writer.writeNamed("advertiser") { $0.writeFields(of: advertiser) } }
    }

    func updateAdvertiser(_ checked: CheckedRequest) async throws -> Response {
        try admit(checked)
        let id = try pathID(checked, "advertiser")
        let body = AdminBody(checked)
        let name = try body.string("name")
        let fromNetwork = try body.string("id_from_network")
        try body.rejectOthers(["name", "id_from_network"])
        let (_, advertiser) = try await administration.updateAdvertiser(
            id: id, name: name, idFromNetwork: fromNetwork)
        try? await services.refreshCatalog()
        audit(checked, "advertiser.update", target: advertiser.id)
        return answer(.ok) { writer in writer.writeNamed("advertiser") { $0.writeFields(of: advertiser) } }
    }

    // MARK: Fields

    func listFields(_ checked: CheckedRequest) async throws -> Response {
        try admit(checked)
        let network = try pathID(checked, "network")
        let fields = try await administration.fields(networkID: network)
        audit(checked, "field.list", target: network)
        return answer(.ok) { $0.writeList("fields", fields) { $0.writeFields(of: $1) } }
    }

    func createField(_ checked: CheckedRequest) async throws -> Response {
        try admit(checked)
        let network = try pathID(checked, "network")
        let body = AdminBody(checked)
        let name = try body.requiredString("name")
        let dataType = try body.requiredString("data_type")
        let allowed = try body.strings("allowed_values") ?? []
        try body.rejectOthers(["name", "data_type", "allowed_values"])
        let field = try await administration.createField(
            networkID: network, name: name, dataType: dataType, allowedValues: allowed)
        try? await services.refreshCatalog()
        audit(checked, "field.create", target: network, name: field.name)
        return answer(.created) { writer in writer.writeNamed("field") { $0.writeFields(of: field) } }
    }

    func updateField(_ checked: CheckedRequest) async throws -> Response {
        try admit(checked)
        let network = try pathID(checked, "network")
        let name = pathText(checked, "name")
        let body = AdminBody(checked)
        guard let values = try body.strings("add_allowed_values") else {
            throw CatalogError.invalid(field: "add_allowed_values", message: "is required")
        }
        try body.rejectOthers(["add_allowed_values"])
        let field = try await administration.addAllowedValues(networkID: network, name: name, values: values)
        try? await services.refreshCatalog()
        audit(checked, "field.update", target: network, name: field.name)
        return answer(.ok) { writer in writer.writeNamed("field") { $0.writeFields(of: field) } }
    }

    // MARK: Tokens

    func listTokens(_ checked: CheckedRequest) async throws -> Response {
        try admit(checked)
        let tokens = try await administration.tokens()
        audit(checked, "token.list", target: nil)
        return answer(.ok) { $0.writeList("tokens", tokens) { $0.writeFields(of: $1) } }
    }

    func createToken(_ checked: CheckedRequest) async throws -> Response {
        try admit(checked)
        let body = AdminBody(checked)
        let description = try body.string("description")
        let kind: NewToken
        switch try body.string("kind") {
        case "telephony":
            try body.rejectOthers(["kind", "description"])
            kind = .telephony(description: description)
        case "admin":
            // SPEC 6.1: an admin token makes no other admin token; only the CLI, on the server, can.
            throw CatalogError.invalid(field: "kind", message: "admin tokens are created only with cip admin")
        case nil, "organization":
            try body.rejectOthers(["kind", "organization_type", "id", "scope", "description"])
            let type = try AdminInput.organizationType(try body.requiredString("organization_type"))
            let id = try AdminInput.id(try body.requiredInteger("id"), field: "id")
            let scope = try AdminInput.scope(try body.string("scope") ?? "write")
            kind = .organization(OrganizationRef(type: type, id: id), scope, description: description)
        default:
            throw CatalogError.invalid(field: "kind", message: "must be organization or telephony")
        }
        let (text, record) = try await administration.createToken(kind)
        audit(checked, "token.create", target: record.id)
        return answer(.created) { writer in
            writer.writeNamed("token") { writer in
                writer.writeFields(of: record)
                writer.key("token")
                writer.string(text)
            }
        }
    }

    func revokeToken(_ checked: CheckedRequest) async throws -> Response {
        try admit(checked)
        let id = try pathID(checked, "token")
        let revoked = try await administration.revokeToken(id: id)
        audit(checked, "token.revoke", target: revoked.id)
        return answer(.ok) { writer in writer.writeNamed("token") { $0.writeFields(of: revoked) } }
    }

    // MARK: Shared steps

    /// Only an admin token passes; any other is answered as no token at all (SPEC 6.1).
    private func admit(_ checked: CheckedRequest) throws {
        guard AccessPolicy.allowsAdministration(checked.token) else { throw DomainError.notAuthorized }
    }

    /// An id in the path (`{id}` or `{id}.json`): not a positive integer is no such record.
    private func pathID(_ checked: CheckedRequest, _ what: String) throws -> Int64 {
        guard let id = Int64(pathText(checked, "id")), id > 0 else { throw CatalogError.unknown("\(what)") }
        return id
    }

    /// A path parameter, percent-decoded, without the `.json` a documented path ends in.
    private func pathText(_ checked: CheckedRequest, _ parameter: String) -> String {
        var raw = checked.context.parameters.get(parameter) ?? ""
        if raw.hasSuffix(".json") { raw.removeLast(5) }
        return QueryParameters.decode(Substring(raw).utf8[...], plusIsSpace: false)
    }

    /// SPEC 6.1's audit line: who (the admin token's id, never its text), what, and on what.
    private func audit(_ checked: CheckedRequest, _ action: String, target: Int64?, name: String? = nil) {
        var metadata: Logger.Metadata = ["admin_token_id": "\(checked.token.id)", "action": "\(action)"]
        if let target { metadata["target_id"] = "\(target)" }
        if let name { metadata["target_name"] = "\(name)" }
        checked.context.logger.notice("admin request", metadata: metadata)
    }

    private func answer(_ status: HTTPResponse.Status, _ write: (inout JSONWriter) -> Void) -> Response {
        APIResponse.json(status, capacity: 1024, write)
    }
}
