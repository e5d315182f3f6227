import CIPOperations
import CIPStore
import Hummingbird
import NIOCore

/// SPEC 7: `/health` says the process is up; `/ready` says the database answers.
struct HealthController: Sendable {
    let store: any ServingStore
    let metrics: ServiceMetrics

    /// `/metrics`: Prometheus text; the live-call gauge is read from the store at each scrape, so it
    /// is right however many nodes write.
    func metrics(_ request: Request, context: some RequestContext) async throws -> Response {
        metrics.setLiveCalls(try await store.liveCallCount())
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
    }

    func health(_ request: Request, context: some RequestContext) async throws -> Response {
        APIResponse.json(.ok, #"{"status":"ok"}"#)
    }

    func ready(_ request: Request, context: some RequestContext) async throws -> Response {
        do {
            try await store.ping()
            return APIResponse.json(.ok, #"{"status":"ready"}"#)
        } catch {
            context.logger.warning("database is not reachable", metadata: ["error": "\(error)"])
            return APIResponse.error(.serviceUnavailable, "ServiceUnavailable", headers: [.retryAfter: "5"])
        }
    }
}
