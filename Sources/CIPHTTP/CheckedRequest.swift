import CIPDomain
import Hummingbird

/// An API request that passed SPEC 2.5's checks up to its own params, in their order: the route
/// exists (404, by routing), a valid token is present (401, and the rate limit's 429), the body is
/// readable (413, 415, 400). The handler checks its params (403), then calls `authorize` (401),
/// then does the request itself. Every API route is wrapped by `APIServices.checked`, so the order
/// is written here once.
struct CheckedRequest: Sendable {
    let request: Request
    let context: APIRequestContext
    let token: TokenRecord
    /// The members of a PUT/POST body; empty for a GET.
    let body: [String: JSONValue]

    var params: QueryParameters { QueryParameters(request) }

    /// A new list of 403 errors, with the body's own problems already in it.
    func validationErrors() -> ValidationErrors {
        var errors = ValidationErrors()
        RequestPayload.checkToken(body, errors: &errors)
        return errors
    }

    /// The last check before the request itself: the token may act for `organization` as `need`
    /// asks (the organization is nil when it does not exist, which is answered alike).
    func authorize(_ organization: ResolvedOrganization?, toAct need: AccessNeed) throws -> ResolvedOrganization {
        guard let organization, AccessPolicy.allows(token, toAct: need, for: organization) else {
            throw DomainError.notAuthorized
        }
        return organization
    }

    /// The telephony feed's version of `authorize`.
    func authorizeTelephony() throws {
        guard AccessPolicy.allowsTelephony(token) else { throw DomainError.notAuthorized }
    }
}

extension APIServices {
    /// A route handler that receives its request checked up to its params (see `CheckedRequest`).
    func checked(
        readsBody: Bool, _ handler: @escaping @Sendable (CheckedRequest) async throws -> Response
    ) -> RouteTable.Handler {
        { request, context in
            let payload = readsBody ? await RequestPayload.read(request, limit: settings.maxBodyBytes) : nil
            // The token may be in the body (`oauth_token`): the body is read first, but its failure is
            // answered only once the token is known good.
            let token = try await authenticate(request, payload: payload)
            let body = try payload?.members() ?? [:]
            return try await handler(CheckedRequest(request: request, context: context, token: token, body: body))
        }
    }
}
