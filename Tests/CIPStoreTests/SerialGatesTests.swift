import CIPStore
import Synchronization
import Testing

/// `SerialGates`: one run of a key at a time, other keys beside it, nothing left taken.
@Suite struct SerialGatesTests {
    @Test func runsOfOneKeyGoOneAtATimeAndOtherKeysRunBeside() async throws {
        let gates = SerialGates()
        let tally = Tally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<60 {
                let key = index % 3 == 0 ? "other\(index)" : "hot"
                group.addTask {
                    try await gates.run(key) {
                        tally.enter(key)
                        try await Task.sleep(for: .milliseconds(2))
                        tally.leave(key)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(tally.most("hot") == 1)
        #expect(tally.entries("hot") == 40)
        #expect(gates.taken == 0)
    }
}

/// How many runs of each key were inside at once, at most, and how many entered.
private final class Tally: Sendable {
    private struct Counts {
        var inside: [String: Int] = [:]
        var most: [String: Int] = [:]
        var entries: [String: Int] = [:]
    }
    private let counts = Mutex(Counts())

    func enter(_ key: String) {
        counts.withLock {
            $0.inside[key, default: 0] += 1
            $0.entries[key, default: 0] += 1
            $0.most[key] = max($0.most[key, default: 0], $0.inside[key, default: 0])
        }
    }

    func leave(_ key: String) { counts.withLock { $0.inside[key, default: 0] -= 1 } }
    func most(_ key: String) -> Int { counts.withLock { $0.most[key, default: 0] } }
    func entries(_ key: String) -> Int { counts.withLock { $0.entries[key, default: 0] } }
}
