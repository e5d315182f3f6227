import CIPDomain
import Hummingbird

/// SPEC 2.5: the one place where domain errors become statuses and bodies.
extension DomainError {
    func response() -> Response {
        switch self {
        case .malformedBody(let message):
            return APIResponse.errors(.badRequest, Self.bodyErrors(message))
        case .notAuthorized:
            return APIResponse.error(.unauthorized, "NotAuthorized")
        case .invalid(let errors):
            return APIResponse.errors(.forbidden, errors)
        case .notFound:
            return APIResponse.error(.notFound, "RecordNotFound")
        case .externalIDTaken:
            var errors = ValidationErrors()
            errors.add("external_unique_id", "has already been taken")
            return APIResponse.errors(.conflict, errors)
        case .methodNotAllowed(let allowed):
            return APIResponse.error(
                .methodNotAllowed, "MethodNotAllowed", headers: [.allow: allowed.joined(separator: ", ")])
        case .bodyTooLarge:
            return APIResponse.errors(.contentTooLarge, Self.bodyErrors("is too large"))
        case .unsupportedMediaType:
            return APIResponse.errors(.unsupportedMediaType, Self.bodyErrors("must be application/json"))
        case .preconditionFailed(let etag):
            return APIResponse.error(.preconditionFailed, "PreconditionFailed", headers: [.eTag: etag])
        case .rateLimited(let seconds):
            return APIResponse.error(.tooManyRequests, "RateLimited", headers: [.retryAfter: String(seconds)])
        case .unavailable:
            return APIResponse.error(.serviceUnavailable, "ServiceUnavailable", headers: [.retryAfter: "5"])
        }
    }

    private static func bodyErrors(_ message: String) -> ValidationErrors {
        var errors = ValidationErrors()
        errors.add("body", message)
        return errors
    }
}

/// Administrative failures (SPEC 6.1) as SPEC 2.5 answers them.
extension CatalogError {
    func response() -> Response {
        switch self {
        case .invalid(let field, let message):
            return DomainError.invalid(field, message).response()
        case .invalidArgument(let message):
            return DomainError.invalid("base", message).response()
        case .unknown:
            return DomainError.notFound.response()
        case .duplicateName:
            var errors = ValidationErrors()
            errors.add("name", "has already been taken")
            return APIResponse.errors(.conflict, errors)
        }
    }
}
