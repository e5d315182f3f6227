import AsyncHTTPClient
import CIPDomain
import CIPHTTP
import CIPStreamClient
import CIPTestSupport
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// A live server over a fresh world with its change streams running, and a real HTTP client to read
/// them.
struct StreamTester: Sendable {
    let api: APITester
    let port: Int
    let services: APIServices
    var baseURL: String { "http://127.0.0.1:\(port)" }
    var world: Fixture { api.world }

    func target(_ type: String, _ id: Int64, token: String) -> StreamTarget {
        StreamTarget(baseURL: baseURL, token: token, organizationType: type, organizationID: id)
    }

    /// Opens a stream of network A (read token unless `token` is given).
    func networkA(token: String? = nil, lastEventID: Int64? = nil) -> TestStream {
        TestStream(
            target("network", world.networkA.id, token: token ?? world.tokens.networkARead), lastEventID: lastEventID)
    }

    /// Waits until the change log has numbered `count` changes (PostgreSQL numbers a change just after
    /// its commit), so a snapshot taken now holds every change acknowledged so far.
    func numbered(through count: Int64) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await world.store.changeLogBounds().latest < count {
            guard ContinuousClock.now < deadline else {
                throw StreamTestTimeout(waitingFor: "change \(count)", outcome: nil)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func advertiserA1(lastEventID: Int64? = nil) -> TestStream {
        TestStream(
            target("advertiser", world.advertiserA1.id, token: world.tokens.advertiserA1Read), lastEventID: lastEventID)
    }
}

/// One connection to a stream, read in a task of its own; the events it received, in order.
final class TestStream: Sendable {
    private final class Inbox: Sendable {
        let state = Mutex<(events: [ServerSentEvent], read: Int, outcome: String?)>(([], 0, nil))
    }
    private let inbox = Inbox()
    private let task: Task<Void, Never>

    /// Its own client: shutting it down closes the connection at once (cancelling a request's task
    /// alone leaves AsyncHTTPClient's connection open until the server next writes).
    private let client = HTTPClient(eventLoopGroupProvider: .singleton)

    init(_ target: StreamTarget, lastEventID: Int64? = nil, query: String = "") {
        let inbox = self.inbox
        let client = self.client
        task = Task {
            do {
                try await readStream(target, lastEventID: lastEventID, client: client, query: query) { event in
                    inbox.state.withLock { $0.events.append(event) }
                }
                inbox.state.withLock { $0.outcome = "ended" }
            } catch {
                inbox.state.withLock { $0.outcome = "\(error)" }
            }
        }
    }

    /// The next event not read yet; fails the test when none comes within `limit`.
    func next(within limit: Duration = .seconds(10)) async throws -> ServerSentEvent {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let event = inbox.state.withLock { state -> ServerSentEvent? in
                guard state.read < state.events.count else { return nil }
                state.read += 1
                return state.events[state.read - 1]
            }
            if let event { return event }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw StreamTestTimeout(waitingFor: "an event", outcome: outcome)
    }

    /// The next event, decoded; fails unless it is of `type`.
    func expect(_ type: String, within limit: Duration = .seconds(10)) async throws -> JSONValue {
        let event = try await next(within: limit)
        #expect(event.event == type, "expected \(type), got \(event.event): \(event.data.prefix(300))")
        return JSONValue.parse(event.data) ?? .null
    }

    /// How the connection ended; nil while it is open.
    var outcome: String? { inbox.state.withLock { $0.outcome } }

    /// Events received and not read yet.
    var unread: [ServerSentEvent] { inbox.state.withLock { Array($0.events[$0.read...]) } }

    /// Waits until the connection has ended, and says how.
    func ended(within limit: Duration = .seconds(10)) async throws -> String {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let outcome { return outcome }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw StreamTestTimeout(waitingFor: "the stream to end", outcome: nil)
    }

    /// Drops the connection.
    func close() {
        task.cancel()
        let client = self.client
        Task { try? await client.shutdown() }
    }

    deinit {
        close()
    }
}

struct StreamTestTimeout: Error, CustomStringConvertible {
    let waitingFor: String
    let outcome: String?
    var description: String { "timed out waiting for \(waitingFor) (connection: \(outcome ?? "open"))" }
}

/// Runs `test` against a live server over a fresh world on `backend`, its change streams running.
func withStreams(
    _ backend: StoreBackend, settings: APISettings = APISettings(),
    _ test: @escaping @Sendable (StreamTester) async throws -> Void
) async throws {
    let world = try await Fixture.make(on: backend)
    let services = APIServices(store: world.store, settings: settings, logger: quietTestLogger)
    // The server `cip serve` runs: its connection guard is what notices a stream's client leave.
    let app = Application(
        router: buildRouter(services: services), server: .guardedHTTP1(ConnectionLimits()),
        services: [services.changeStreams], logger: quietTestLogger)
    try await app.test(.live) { client in
        try await test(
            StreamTester(
                api: APITester(client: client, world: world), port: client.port!,
                services: services))
    }
}
