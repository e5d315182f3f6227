import CIPDomain
import CIPHTTP
import CIPTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

/// Keeps every log line, with its metadata, for inspection.
final class CapturedLog: Sendable {
    let lines = Mutex<[String]>([])

    func handler(label: String) -> some LogHandler { Handler(log: self) }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            log.lines.withLock { $0.append("\(event.level) \(event.message) \(all)") }
        }
    }
}

@Suite("Logs never hold tokens (SPEC 2.1)")
struct LogPrivacyTests {
    @Test(arguments: StoreBackend.available)
    func tokensInHeaderQueryAndBodyNeverReachTheLog(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let captured = CapturedLog()
        var logger = Logger(label: "cip-test") { captured.handler(label: $0) }
        logger.logLevel = .trace
        let app = Application(
            router: buildRouter(services: APIServices(store: world.store, settings: APISettings())), logger: logger)
        let token = world.tokens.networkA
        let query = "id=\(world.networkA.id)&organization_type=network"
        try await app.test(.router) { client in
            _ = try await client.executeRequest(
                uri: "\(base)/calls_in_progress/current_calls.json?\(query)", method: .get,
                headers: [.authorization: token], body: nil)
            _ = try await client.executeRequest(
                uri: "\(base)/calls_in_progress/current_calls.json?\(query)&oauth_token=\(token)", method: .get,
                headers: [:], body: nil)
            _ = try await client.executeRequest(
                uri: "\(base)/calls_in_progress.json?\(query)&transaction_id=NOPE", method: .put,
                headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"oauth_token":"\#(token)","call_in_progress":{"external_unique_id":"x"}}"#))
            _ = try await client.executeRequest(
                uri: "\(base)/calls_in_progress/current_calls.json?\(query)", method: .get,
                headers: [.authorization: "Bearer \(token)x"], body: nil)
        }
        let lines = captured.lines.withLock { $0 }
        #expect(lines.contains { $0.contains("request") }, "the request log is expected at trace level")
        #expect(!lines.contains { $0.contains(token) })
    }
}
