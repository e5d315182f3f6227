import CIPOperations
import Hummingbird

/// The service's routes: a path asked exactly as a route without parameters spells it is found with
/// one dictionary lookup; every other request (a parameter in the path, a trailing slash, an unknown
/// path) goes to Hummingbird's router, which holds every route too and answers them alike.
///
/// Why: resolving a four-segment API path in the router's trie cost about 5 % of a poller's CPU in
/// profiles, more than anything the route itself did (BENCHMARKS.md "Profiles").
public struct APIRouter: HTTPResponderBuilder {
    let router: Router<APIRequestContext>
    let exact: [String: [HTTPRequest.Method: RouteTable.Handler]]
    let observation: RequestObservationMiddleware<APIRequestContext>
    let errors: ErrorMiddleware<APIRequestContext>

    public func buildResponder() -> Responder {
        Responder(
            routed: router.buildResponder(), exact: exact, observation: observation, errors: errors)
    }

    public struct Responder: HTTPResponder {
        let routed: RouterResponder<APIRequestContext>
        let exact: [String: [HTTPRequest.Method: RouteTable.Handler]]
        let observation: RequestObservationMiddleware<APIRequestContext>
        let errors: ErrorMiddleware<APIRequestContext>

        public func respond(to request: Request, context: APIRequestContext) async throws -> Response {
            let path = request.uri.path
            guard let handler = exact[path]?[request.method] else {
                return try await routed.respond(to: request, context: context)
            }
            // What the router records for metrics and logs: the route's pattern, here the path itself.
            context.coreContext.endpointPath.value = path
            // The same middlewares, in the same order, as the router applies to each of its routes.
            return try await observation.handle(request, context: context) { request, context in
                try await errors.handle(request, context: context, next: handler)
            }
        }
    }
}
