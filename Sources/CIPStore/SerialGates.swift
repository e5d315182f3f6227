import Synchronization

/// Runs async work one at a time per key, in arrival order: a caller waits in memory, as a suspended
/// task, for the work of its key in progress (and the callers before it) to end. Work of other keys
/// runs beside it.
public final class SerialGates: Sendable {
    /// A key is present while work of it runs; its waiters enter one by one.
    private struct Queue {
        var waiting: [CheckedContinuation<Void, Never>] = []
        var next = 0
    }

    private let queues = Mutex<[String: Queue]>([:])

    public init() {}

    public func run<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
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

    /// Keys with work running, for tests.
    public var taken: Int { queues.withLock { $0.count } }
}
