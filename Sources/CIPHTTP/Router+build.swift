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
    // The version is part of each path rather than a parameter: an unknown version matches no route
    // and is answered 404 before anything else is looked at (SPEC 2.5), and matching costs less.
    for suffix in [".json", ""] {
        router.get("/api/\(apiVersion)/calls_in_progress/current_calls\(suffix)", use: calls.currentCalls)
        router.put("/api/\(apiVersion)/calls_in_progress\(suffix)", use: calls.update)
        router.post("/api/\(apiVersion)/calls_in_progress\(suffix)", use: calls.update)
        router.post("/api/\(apiVersion)/telephony/call_events\(suffix)", use: telephony.post)
    }
    return router
}
