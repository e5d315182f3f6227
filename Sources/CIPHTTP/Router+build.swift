import CIPDomain
import CIPStore
import Hummingbird

/// The API's one version (SPEC 3).
public let apiVersion = "2022-08-01"

/// Builds the routes of the whole service; the composition root and the tests share it.
public func buildRouter(services: APIServices) -> APIRouter {
    let router = Router(context: APIRequestContext.self)
    let health = HealthController(store: services.store, metrics: services.metrics)
    let calls = CallsController(services: services)
    let telephony = TelephonyController(services: services)
    let stream = StreamController(services: services)
    let wallboard = WallboardController()
    let admin = AdminController(services: services)
    let preCall = PreCallController(services: services)
    var routes = RouteTable()
    routes.add("/health", .get, health.health)
    routes.add("/ready", .get, health.ready)
    routes.add("/metrics", .get, health.metrics)
    // SPEC 10: the wallboard page and the three files it loads, all compiled into the binary.
    routes.add("/", .get, wallboard.file)
    routes.add("/wallboard.css", .get, wallboard.file)
    routes.add("/wallboard.js", .get, wallboard.file)
    routes.add("/favicon.svg", .get, wallboard.file)
    // The version is part of each path rather than a parameter: an unknown version matches no route
    // and is answered 404 before anything else is looked at (SPEC 2.5), and matching costs less.
    for suffix in [".json", ""] {
        routes.add(
            "/api/\(apiVersion)/calls_in_progress/current_calls\(suffix)", .get,
            services.checked(readsBody: false, calls.currentCalls))
        routes.add(
            "/api/\(apiVersion)/calls_in_progress\(suffix)", .put, services.checked(readsBody: true, calls.update))
        routes.add(
            "/api/\(apiVersion)/calls_in_progress\(suffix)", .post, services.checked(readsBody: true, calls.update))
        routes.add(
            "/api/\(apiVersion)/telephony/call_events\(suffix)", .post,
            services.checked(readsBody: true, telephony.post))
        // SPEC 2.9: pre-call data.
        routes.add(
            "/api/\(apiVersion)/calls_in_progress/pre_call_data\(suffix)", .put,
            services.checked(readsBody: true, preCall.put))
        routes.add(
            "/api/\(apiVersion)/calls_in_progress/pre_call_data\(suffix)", .post,
            services.checked(readsBody: true, preCall.put))
        routes.add(
            "/api/\(apiVersion)/calls_in_progress/pre_call_data\(suffix)", .get,
            services.checked(readsBody: false, preCall.list))
        routes.add(
            "/api/\(apiVersion)/calls_in_progress/pre_call_data\(suffix)", .delete,
            services.checked(readsBody: false, preCall.withdraw))
    }
    routes.add(
        "/api/\(apiVersion)/calls_in_progress/stream", .get, services.checked(readsBody: false, stream.stream))
    // SPEC 6.1: the admin API, for admin tokens only (each handler checks the kind first).
    for suffix in [".json", ""] {
        routes.add(
            "/api/\(apiVersion)/admin/networks\(suffix)", .get, services.checked(readsBody: false, admin.listNetworks))
        routes.add(
            "/api/\(apiVersion)/admin/networks\(suffix)", .post, services.checked(readsBody: true, admin.createNetwork))
        routes.add(
            "/api/\(apiVersion)/admin/networks/{id}/advertisers\(suffix)", .get,
            services.checked(readsBody: false, admin.listAdvertisers))
        routes.add(
            "/api/\(apiVersion)/admin/networks/{id}/advertisers\(suffix)", .post,
            services.checked(readsBody: true, admin.createAdvertiser))
        routes.add(
            "/api/\(apiVersion)/admin/advertisers/{id}\(suffix)", .patch,
            services.checked(readsBody: true, admin.updateAdvertiser))
        routes.add(
            "/api/\(apiVersion)/admin/networks/{id}/fields\(suffix)", .get,
            services.checked(readsBody: false, admin.listFields))
        routes.add(
            "/api/\(apiVersion)/admin/networks/{id}/fields\(suffix)", .post,
            services.checked(readsBody: true, admin.createField))
        routes.add(
            "/api/\(apiVersion)/admin/networks/{id}/fields/{name}\(suffix)", .patch,
            services.checked(readsBody: true, admin.updateField))
        routes.add(
            "/api/\(apiVersion)/admin/tokens\(suffix)", .get, services.checked(readsBody: false, admin.listTokens))
        routes.add(
            "/api/\(apiVersion)/admin/tokens\(suffix)", .post, services.checked(readsBody: true, admin.createToken))
        routes.add(
            "/api/\(apiVersion)/admin/tokens/{id}\(suffix)", .delete,
            services.checked(readsBody: false, admin.revokeToken))
    }
    let observation = RequestObservationMiddleware<APIRequestContext>(metrics: services.metrics)
    let errors = ErrorMiddleware<APIRequestContext>(metrics: services.metrics, routes: routes)
    router.middlewares.add(observation)
    router.middlewares.add(errors)
    routes.register(on: router)
    return APIRouter(router: router, exact: routes.exactRoutes, observation: observation, errors: errors)
}
