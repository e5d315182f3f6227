/// Every way a request can fail that the service means to tell the caller about (SPEC 2.5).
public enum DomainError: Error, Sendable, Equatable {
    /// 400: the body is not JSON, or not an object.
    case malformedBody(String)
    /// 401: no usable token, or one that may not act here.
    case notAuthorized
    /// 403: params or body fields are missing or invalid.
    case invalid(ValidationErrors)
    /// 404: no call in progress matches, or the path or version does not exist.
    case notFound
    /// 409: the external unique id is taken by another live call of the network.
    case externalIDTaken
    /// 405: the path exists, but not with this method; `allowed` are the methods it has.
    case methodNotAllowed(allowed: [String])
    /// 413: the body is larger than the limit.
    case bodyTooLarge
    /// 415: a PUT/POST body that is not JSON.
    case unsupportedMediaType
    /// 412: `If-Match` named another version of the call; `etag` is the call's current one.
    case preconditionFailed(etag: String)
    /// 429: the token went over its rate limit.
    case rateLimited(retryAfterSeconds: Int)
    /// 503: the database cannot be reached.
    case unavailable

    public static func invalid(_ key: String, _ message: String) -> DomainError {
        var errors = ValidationErrors()
        errors.add(key, message)
        return .invalid(errors)
    }
}

/// Failures of administrative writes (SPEC 6), reported as one line by the CLI.
public enum CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    case duplicateName(String)
    case unknown(String)
    case invalidArgument(String)
    /// An input that breaks a rule, named by its API field (`name`, `id_from_network`, ...): the CLI
    /// names the flag instead, the admin API answers `403` naming the field.
    case invalid(field: String, message: String)

    public var description: String {
        switch self {
        case .duplicateName(let what): return "\(what) already exists"
        case .unknown(let what): return "\(what) does not exist"
        case .invalidArgument(let what): return what
        case .invalid(let field, let message): return "\(field) \(message)"
        }
    }
}
