import Synchronization

/// Tasks that live as long as their owner: cancelled when it is released. The tasks must not hold
/// the owner, or it is never released.
final class BackgroundTasks: Sendable {
    private let tasks = Mutex<[Task<Void, Never>]>([])

    func keep(_ task: Task<Void, Never>) {
        tasks.withLock { $0.append(task) }
    }

    deinit {
        tasks.withLock { tasks in
            for task in tasks { task.cancel() }
        }
    }
}
