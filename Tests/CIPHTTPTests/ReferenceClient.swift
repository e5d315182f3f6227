import CIPDomain
import CIPStreamClient
import Synchronization
import Testing

/// SPEC 8's reference client: a mirror kept from the stream over many short connections.
final class ReferenceClient: Sendable {
    let targets: [StreamTarget]
    private let state = Mutex<State>(State())

    struct State {
        var mirror = CallsMirror()
        var stopped = false
        var report = Report()
    }

    struct Report {
        var applied = 0
        var connections = 0
        var snapshots = 0
    }

    init(targets: [StreamTarget]) {
        self.targets = targets
    }

    var report: Report { state.withLock { $0.report } }

    func stop() {
        state.withLock { $0.stopped = true }
    }

    /// Connects, reads for a random moment, drops the connection, and again, until stopped; each time
    /// to the next target, resuming after the last change applied. Throws when the stream breaks its
    /// guarantee.
    func follow() async throws {
        var next = 0
        while !state.withLock({ $0.stopped }) {
            let target = targets[next % targets.count]
            next += 1
            try await read(target, for: .milliseconds(Int.random(in: 200...3000)))
        }
    }

    /// Reads from the first target until the mirror holds exactly `current` (keyed by transaction id).
    func converge(to current: [JSONValue]) async throws {
        let expected = Dictionary(
            uniqueKeysWithValues: current.map { ($0.objectValue?["transaction_id"]?.stringValue ?? "", $0) })
        let deadline = ContinuousClock.now + .seconds(30)
        while state.withLock({ $0.mirror.calls }) != expected {
            guard ContinuousClock.now < deadline else {
                let held = state.withLock { $0.mirror.calls }
                let onlyHeld = Array(Set(held.keys).subtracting(expected.keys).sorted().prefix(5))
                let onlyListed = Array(Set(expected.keys).subtracting(held.keys).sorted().prefix(5))
                let differing = expected.keys.filter { held[$0] != nil && held[$0] != expected[$0] }.count
                Issue.record(
                    "the mirror holds \(held.count) calls, current_calls \(expected.count); only held: \(onlyHeld), only listed: \(onlyListed), \(differing) differ"
                )
                return
            }
            try await read(targets[0], for: .seconds(1))
        }
    }

    private func read(_ target: StreamTarget, for window: Duration) async throws {
        let resumeAfter = state.withLock { $0.mirror.awaitingSnapshot ? nil : $0.mirror.lastSequence }
        let stream = TestStream(target, lastEventID: resumeAfter)
        defer { stream.close() }
        state.withLock { $0.report.connections += 1 }
        let until = ContinuousClock.now + window
        while ContinuousClock.now < until {
            // A server that is down or restarting: the window passes without events.
            guard let event = try? await stream.next(within: until - ContinuousClock.now) else { break }
            try state.withLock { state in
                let applied = try state.mirror.apply(event)
                if case .snapshot = applied { state.report.snapshots += 1 }
                if case .change = applied { state.report.applied += 1 }
            }
        }
    }
}
