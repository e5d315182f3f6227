import CIPStore
import Hummingbird

/// SPEC 7: `/health` says the process is up; `/ready` says the database answers.
struct HealthController: Sendable {
    let store: any CallStore

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
