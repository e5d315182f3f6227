import CIPDomain
import CIPOperations
import CIPStore
import Hummingbird
import Logging

/// Turns every error a route throws into SPEC 2.5's status and body; unexpected ones become a 500
/// whose handle is logged beside the cause.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics
    let routes: RouteTable

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as DomainError {
            return error.response()
        } catch let error as CatalogError {
            return error.response()
        } catch let error as HTTPError where error.status == .notFound {
            if let allowed = routes.methods(of: request.uri.path) {
                return DomainError.methodNotAllowed(allowed: allowed).response()
            }
            return DomainError.notFound.response()
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return DomainError.bodyTooLarge.response()
        } catch let error as HTTPError where error.status.code < 500 {
            return APIResponse.error(error.status, error.status.reasonPhrase.replacingAll(" ", with: ""))
        } catch {
            if error is StoreFailure { metrics.recordDatabaseError() }
            let handle = UInt32.random(in: 100_000_000...999_999_999)
            context.logger.error(
                "internal error", metadata: ["error_handle": "\(handle)", "error": "\(String(reflecting: error))"])
            return APIResponse.json(.internalServerError) { writer in
                writer.beginObject()
                writer.key("errors")
                writer.beginObject()
                writer.key("invalid_data")
                writer.string("refer to error handle \(handle)")
                writer.key("class")
                writer.string("InternalServiceError")
                writer.endObject()
                writer.endObject()
            }
        }
    }
}
