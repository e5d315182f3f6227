import Synchronization

/// Lets one write per call at a time on this node wait for a pooled connection, in arrival order.
///
/// Concurrent PUTs of one call queue for its row lock in the database; each would hold one of the
/// pool's connections while it waits, so a burst on one hot call (or a hostile client's) could take
/// every connection, and every other request would wait for one until its deadline and be answered
/// 503. Here they wait in memory instead, and the call holds at most one connection of this node.
final class CallGates: Sendable {
    /// A key is present while a write of it runs; its waiters enter one by one.
    private struct Queue {
        var waiting: [CheckedContinuation<Void, Never>] = []
        var next = 0
    }

    private let queues = Mutex<[String: Queue]>([:])

    func run<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
        await withCheckedContinuation { continuation in
            let enters = queues.withLock { queues -> Bool in
                guard queues[key] != nil else {
                    queues[key] = Queue()
                    return true
                }
                queues[key]?.waiting.append(continuation)
                return false
            }
            if enters { continuation.resume() }
        }
        defer {
            // The next waiter enters as this one leaves; the key stays taken between them.
            let next = queues.withLock { queues -> CheckedContinuation<Void, Never>? in
                guard var queue = queues[key], queue.next < queue.waiting.count else {
                    queues[key] = nil
                    return nil
                }
                let first = queue.waiting[queue.next]
                queue.next += 1
                if queue.next == queue.waiting.count {
                    queue.waiting.removeAll(keepingCapacity: true)
                    queue.next = 0
                }
                queues[key] = queue
                return first
            }
            next?.resume()
        }
        return try await body()
    }

    /// Keys with a write running, for tests.
    var taken: Int { queues.withLock { $0.count } }
}
