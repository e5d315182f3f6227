import Synchronization

/// Tasks waiting for a number that only grows (a sequence applied, a round finished) to reach a
/// value, each for at most a given time.
final class SequenceWaiters: Sendable {
    private enum Slot {
        /// Made, not yet waiting.
        case pending
        case waiting(value: Int64, continuation: CheckedContinuation<Bool, Never>)
        /// Its time ran out before it was waiting.
        case expired
    }

    private struct State {
        var reached: Int64 = 0
        var nextID = 0
        var slots: [Int: Slot] = [:]
    }

    private let state = Mutex(State())

    var reached: Int64 { state.withLock { $0.reached } }

    /// Moves the number to `value` (never back) and wakes every wait it satisfies.
    func advance(to value: Int64) {
        let woken = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard value > state.reached else { return [] }
            state.reached = value
            var woken: [CheckedContinuation<Bool, Never>] = []
            for (id, slot) in state.slots {
                if case .waiting(let needed, let continuation) = slot, needed <= value {
                    state.slots[id] = nil
                    woken.append(continuation)
                }
            }
            return woken
        }
        for continuation in woken { continuation.resume(returning: true) }
    }

    /// True once the number reaches `value`; false if `timeout` passes first.
    func wait(for value: Int64, timeout: Duration) async -> Bool {
        let id = state.withLock { state -> Int? in
            guard state.reached < value else { return nil }
            defer { state.nextID += 1 }
            state.slots[state.nextID] = .pending
            return state.nextID
        }
        guard let id else { return true }
        let timer = Task { [weak self] in
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self?.expire(id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let answer = state.withLock { state -> Bool? in
                if case .expired = state.slots[id] {
                    state.slots[id] = nil
                    return false
                }
                if state.reached >= value {
                    state.slots[id] = nil
                    return true
                }
                state.slots[id] = .waiting(value: value, continuation: continuation)
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }

    private func expire(_ id: Int) {
        let continuation = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            switch state.slots[id] {
            case .pending:
                state.slots[id] = .expired
                return nil
            case .waiting(_, let continuation):
                state.slots[id] = nil
                return continuation
            case .expired, nil:
                return nil
            }
        }
        continuation?.resume(returning: false)
    }
}
