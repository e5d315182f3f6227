import Synchronization

/// A signal that the change log may hold new changes. Rings coalesce: a burst of commits wakes each
/// waiter once, and it then reads everything new.
public final class ChangeBell: Sendable {
    /// For the change stream's follower.
    public let rings: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    /// Other followers of the log (the webhooks' deliveries).
    private let others = Mutex<[AsyncStream<Void>.Continuation]>([])

    public init() {
        (rings, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Rings for another waiter, from now on.
    public func makeRings() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        others.withLock { $0.append(continuation) }
        return stream
    }

    public func ring() {
        continuation.yield()
        others.withLock { waiters in
            for waiter in waiters { waiter.yield() }
        }
    }
}
