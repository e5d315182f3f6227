import CIPDomain
import CIPStore
import Hummingbird

/// The API's one version (SPEC 3).
public let apiVersion = "2022-08-01"

/// Builds the routes of the whole service; the composition root and the tests share it.
public func buildRouter(services: APIServices) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.middlewares.add(RequestObservationMiddleware(metrics: services.metrics))
    router.middlewares.add(ErrorMiddleware(metrics: services.metrics))

    let health = HealthController(store: services.store, metrics: services.metrics)
    router.get("/health", use: health.health)
    router.get("/ready", use: health.ready)
    router.get("/metrics", use: health.metrics)

    let calls = CallsController(services: services)
    let telephony = TelephonyController(services: services)
    for suffix in [".json", ""] {
        router.get("/api/:version/calls_in_progress/current_calls\(suffix)", use: versioned(calls.currentCalls))
        router.put("/api/:version/calls_in_progress\(suffix)", use: versioned(calls.update))
        router.post("/api/:version/calls_in_progress\(suffix)", use: versioned(calls.update))
        router.post("/api/:version/telephony/call_events\(suffix)", use: versioned(telephony.post))
    }
    return router
}

/// Answers an unknown version in the path with 404 before anything else is looked at.
private func versioned(
    _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
) -> @Sendable (Request, BasicRequestContext) async throws -> Response {
    { request, context in
        guard context.parameters.get("version") == apiVersion else { throw DomainError.notFound }
        return try await handler(request, context)
    }
}
