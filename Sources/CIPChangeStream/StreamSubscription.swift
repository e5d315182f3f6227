import CIPDomain
import Synchronization

/// Why a stream ended before its client left.
public enum StreamEnd: Sendable, Equatable {
    /// Too many changes pending, or the oldest waiting too long: the client is sent `overflow`.
    case overflow(String)
    /// The stream's token was revoked.
    case revoked
    /// The server is shutting down: the client resumes elsewhere.
    case shutdown
}

/// One open stream as the follower sees it: the changes waiting for it, bounded, and a doorbell
/// that wakes the stream's task when there is something to do.
final class StreamSubscription: Sendable {
    let organization: OrganizationRef
    let tokenID: Int64
    private let state: Mutex<State>
    private let doorbellContinuation: AsyncStream<Void>.Continuation
    private let endContinuation: AsyncStream<StreamEnd>.Continuation
    /// Rings when changes arrive, a keep-alive is due, or the stream ends.
    let doorbell: AsyncStream<Void>
    /// Yields once, when the stream must end.
    let ending: AsyncStream<StreamEnd>

    private struct State {
        var pending: [StreamEvent] = []
        var end: StreamEnd?
        var lastSent = ContinuousClock.now
        var keepAliveDue = false
    }

    init(organization: OrganizationRef, tokenID: Int64) {
        self.organization = organization
        self.tokenID = tokenID
        state = Mutex(State())
        (doorbell, doorbellContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (ending, endContinuation) = AsyncStream.makeStream(of: StreamEnd.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a change for the stream; past `limit` waiting, the stream overflows and its queue is
    /// dropped, so a client that stops reading holds no more than `limit` changes.
    func offer(_ event: StreamEvent, limit: Int) {
        let overflowed = state.withLock { state -> Bool in
            guard state.end == nil else { return false }
            guard state.pending.count < limit else {
                state.pending = []
                return true
            }
            state.pending.append(event)
            return false
        }
        if overflowed { end(.overflow("more than \(limit) changes pending")) }
        doorbellContinuation.yield()
    }

    /// Ends the stream (the first reason given wins).
    func end(_ reason: StreamEnd) {
        let first = state.withLock { state -> Bool in
            guard state.end == nil else { return false }
            state.end = reason
            state.pending = []
            return true
        }
        guard first else { return }
        endContinuation.yield(reason)
        endContinuation.finish()
        doorbellContinuation.yield()
    }

    /// What the stream's task should do now: the changes waiting (taken), whether a keep-alive is due.
    func take() -> (events: [StreamEvent], keepAlive: Bool) {
        state.withLock { state in
            let taken = (state.pending, state.keepAliveDue)
            state.pending = []
            state.keepAliveDue = false
            return taken
        }
    }

    /// The stream wrote something to its client.
    func didSend() {
        state.withLock { $0.lastSent = .now }
    }

    /// The periodic check: overflow when the oldest waiting change is older than `maxLag`, and ask
    /// for a keep-alive when nothing was sent for `keepAlive`.
    func sweep(now: ContinuousClock.Instant, maxLag: Duration, keepAlive: Duration) {
        let (lagging, ring) = state.withLock { state -> (Bool, Bool) in
            guard state.end == nil else { return (false, false) }
            if let oldest = state.pending.first, now - oldest.readAt > maxLag { return (true, false) }
            // The stream may be busy writing (a slow client): lag is then measured by what waits.
            if now - state.lastSent >= keepAlive && !state.keepAliveDue {
                state.keepAliveDue = true
                return (false, true)
            }
            return (false, false)
        }
        if lagging { end(.overflow("changes waited more than \(maxLag) to be sent")) }
        if ring { doorbellContinuation.yield() }
    }
}
