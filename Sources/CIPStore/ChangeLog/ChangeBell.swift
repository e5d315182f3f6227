/// A signal that the change log may hold new changes. Rings coalesce: a burst of commits wakes the
/// one waiter once, and it then reads everything new.
public final class ChangeBell: Sendable {
    /// For one waiter: the change stream's follower.
    public let rings: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init() {
        (rings, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func ring() {
        continuation.yield()
    }
}
