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

    mutating func removeAll() {
        events = Array(repeating: nil, count: events.count)
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
