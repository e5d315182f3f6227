import ServiceLifecycle
import Synchronization

/// Holds background services back until the store is prepared (PostgreSQL's migrations run once its
/// pool does, in `beforeServerStarts`): maintenance or the demo's seeding must not meet a schema
/// that does not exist yet.
final class StartGate: Sendable {
    private struct State {
        /// nil while closed; true once opened, false once the server stopped first.
        var outcome: Bool?
        var waiters: [CheckedContinuation<Bool, Never>] = []
    }
    private let state = Mutex(State())

    /// The store is prepared: held services start.
    func open() { settle(true) }

    /// The server stops before the store was prepared: held services end without starting.
    func abandon() { settle(false) }

    /// True when the services may start, false when they are to end.
    func wait() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let outcome = state.withLock { state in
                    if state.outcome == nil { state.waiters.append(continuation) }
                    return state.outcome
                }
                if let outcome { continuation.resume(returning: outcome) }
            }
        } onCancel: {
            abandon()
        }
    }

    /// `service`, started once the gate opens.
    func holding(_ service: any Service) -> any Service {
        GatedService(gate: self, service: service)
    }

    private func settle(_ outcome: Bool) {
        let waiters = state.withLock { state in
            if state.outcome == nil { state.outcome = outcome }
            defer { state.waiters = [] }
            return (state.waiters, state.outcome!)
        }
        for waiter in waiters.0 { waiter.resume(returning: waiters.1) }
    }
}

private struct GatedService: Service {
    let gate: StartGate
    let service: any Service

    func run() async throws {
        // A graceful shutdown while waiting cancels the wait, which abandons the gate.
        let mayStart = await cancelWhenGracefulShutdown { await gate.wait() }
        guard mayStart else { return }
        try await service.run()
    }
}
