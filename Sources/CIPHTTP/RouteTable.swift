import Hummingbird

/// Every route with its method, kept so that a known path asked with another method is answered
/// `405` with the methods it has in `Allow` (RFC 9110), not `404`.
struct RouteTable: Sendable {
    typealias Handler = @Sendable (Request, APIRequestContext) async throws -> Response

    private var routes: [(path: String, method: HTTPRequest.Method, handler: Handler)] = []
    private var methodsByPath: [String: [String]] = [:]

    mutating func add(_ path: String, _ method: HTTPRequest.Method, _ handler: @escaping Handler) {
        routes.append((path, method, handler))
        methodsByPath[path, default: []].append(method.rawValue)
    }

    /// The methods `path` has; nil when no route has that path.
    func methods(of path: String) -> [String]? {
        methodsByPath[path]
    }

    func register(on router: Router<APIRequestContext>) {
        for route in routes {
            router.on(RouterPath(route.path), method: route.method, use: route.handler)
        }
    }
}
