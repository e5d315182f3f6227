import CIPOperations
import Hummingbird
import Logging

/// One log line and one metric sample per request: request id (from the context's logger), route
/// pattern, status and duration. Never the query string, which may hold a token or phone numbers.
struct RequestObservationMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let start = ContinuousClock.now
        // The error middleware inside this one turns every error into a response.
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        metrics.recordRequest(
            route: route, method: request.method.rawValue, status: Int(response.status.code), duration: elapsed)
        context.logger.info(
            "request",
            metadata: [
                "method": "\(request.method)", "route": "\(route)", "status": "\(response.status.code)",
                "duration_us": "\(elapsed.wholeMicroseconds)",
            ])
        return response
    }
}
