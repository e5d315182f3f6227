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

    /// The methods `path` has; nil when no route has that path. Empty segments are skipped, as the
    /// router skips them (`/health/` is `/health`). A route's `{parameter}` segment matches any
    /// segment (with the same literal ending, for `{id}.json`).
    func methods(of path: String) -> [String]? {
        if let methods = methodsByPath[path] { return methods }
        let segments = path.split(separator: "/")
        var methods: [String] = []
        for (pattern, patternMethods) in methodsByPath {
            let patternSegments = pattern.split(separator: "/")
            guard patternSegments.count == segments.count,
                zip(patternSegments, segments).allSatisfy({ Self.segment($1, matches: $0) })
            else { continue }
            methods += patternMethods.filter { !methods.contains($0) }
        }
        return methods.isEmpty ? nil : methods
    }

    private static func segment(_ segment: Substring, matches pattern: Substring) -> Bool {
        guard pattern.first == "{", let close = pattern.firstIndex(of: "}") else { return segment == pattern }
        let suffix = pattern[pattern.index(after: close)...]
        return segment.count > suffix.count && segment.hasSuffix(suffix)
    }

    /// The routes without a `{parameter}`, by path and method.
    var exactRoutes: [String: [HTTPRequest.Method: Handler]] {
        var exact: [String: [HTTPRequest.Method: Handler]] = [:]
        for route in routes where !route.path.contains("{") {
            exact[route.path, default: [:]][route.method] = route.handler
        }
        return exact
    }

    func register(on router: Router<APIRequestContext>) {
        for route in routes {
            router.on(RouterPath(route.path), method: route.method, use: route.handler)
        }
    }
}
