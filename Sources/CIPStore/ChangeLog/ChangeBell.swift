import Synchronization

/// A signal that the change log may hold new changes. Rings coalesce: a burst of commits wakes each
/// waiter once, and it then reads everything new.
public final class ChangeBell: Sendable {
    /// For the change stream's follower.
    public let rings: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    /// Other followers of the log (the webhooks' deliveries).
    private let others = Mutex<[AsyncStream<Void>.Continuation]>([])
    private let head = Mutex<Int64?>(nil)

    public init() {
        (rings, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Rings for another waiter, from now on.
    public func makeRings() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        others.withLock { $0.append(continuation) }
        return stream
    }

    /// The change log's last sequence number, on a bell whose ringer is the log's only writer and
    /// says where the log ends (`knowHead`, `ring(through:)`: an SQLite store); nil otherwise.
    /// A follower with nobody to hand changes to can move past them without asking the database.
    public var knownHead: Int64? { head.withLock { $0 } }

    /// Starts `knownHead` at the log's last sequence number, before the first ring.
    func knowHead(_ sequence: Int64) {
        head.withLock { $0 = max($0 ?? sequence, sequence) }
    }

    /// Rings after a commit that ended the log at `sequence`.
    func ring(through sequence: Int64) {
        knowHead(sequence)
        ring()
    }

    public func ring() {
        continuation.yield()
        others.withLock { waiters in
            for waiter in waiters { waiter.yield() }
        }
    }
}
