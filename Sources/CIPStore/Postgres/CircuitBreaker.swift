import Synchronization

/// Remembers that the database is down, so requests are answered `503` at once instead of each
/// waiting out the lease deadline while connections and memory pile up (issue 9, item 9).
///
/// It opens on an outage and closes when `probe` succeeds. The probe runs every `probeInterval`
/// only while it is open, in a task that ends with the outage, so recovery is as quick as before.
final class CircuitBreaker: Sendable {
    private struct State {
        var open = false
        var probing = false
    }
    private let state = Mutex(State())
    private let probeInterval: Duration
    private let probe: @Sendable () async -> Bool

    init(probeInterval: Duration = .milliseconds(100), probe: @escaping @Sendable () async -> Bool) {
        self.probeInterval = probeInterval
        self.probe = probe
    }

    var isOpen: Bool { state.withLock { $0.open } }

    /// The database was found unreachable: open, and probe until it answers again.
    func trip() {
        let startProbe = state.withLock { state -> Bool in
            state.open = true
            guard !state.probing else { return false }
            state.probing = true
            return true
        }
        guard startProbe else { return }
        Task {
            while true {
                try? await Task.sleep(for: probeInterval)
                if await probe() { break }
            }
            state.withLock { state in
                state.open = false
                state.probing = false
            }
        }
    }
}
