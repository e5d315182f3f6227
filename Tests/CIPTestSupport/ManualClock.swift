import CIPDomain
import Synchronization

/// A clock the test moves by hand, so expiry and retention need no sleeping.
public final class ManualClock: Sendable {
    private let current: Mutex<Int64>

    public init(_ start: Timestamp = Timestamp(milliseconds: 1_700_000_000_000)) {
        current = Mutex(start.milliseconds)
    }

    public func now() -> Timestamp {
        Timestamp(milliseconds: current.withLock { $0 })
    }

    public func advance(_ duration: Duration) {
        current.withLock { $0 += duration.wholeMilliseconds }
    }

    /// The clock as the service takes it.
    public var function: @Sendable () -> Timestamp {
        { [self] in now() }
    }
}
