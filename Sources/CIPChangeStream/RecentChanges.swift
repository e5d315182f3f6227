import CIPDomain

/// The last changes this node read from the log, oldest first, at most `capacity`: a stream that
/// catches up from within them needs no database read. Their sequence numbers are consecutive.
struct RecentChanges {
    private var events: [StreamEvent?]
    private var start = 0
    private(set) var count = 0

    init(capacity: Int) {
        events = Array(repeating: nil, count: max(1, capacity))
    }

    mutating func append(_ event: StreamEvent) {
        if count == events.count {
            events[start] = event
            start = (start + 1) % events.count
        } else {
            events[(start + count) % events.count] = event
            count += 1
        }
    }

    /// Clears only the occupied slots: with no stream open this runs after every commit, and
    /// replacing the whole buffer cost a write most of its time.
    mutating func removeAll() {
        for offset in 0..<count { events[(start + offset) % events.count] = nil }
        start = 0
        count = 0
    }

    /// The changes after `sequence`, or nil when the oldest kept is not the one right after it.
    func after(_ sequence: Int64) -> [StreamEvent]? {
        guard count > 0, let first = events[start] else { return nil }
        let skip = sequence - first.sequence + 1
        guard skip >= 0 else { return nil }
        guard skip < count else { return [] }
        return (Int(skip)..<count).map { events[(start + $0) % events.count]! }
    }
}
