import Testing

@testable import CIPStore

/// `SequenceWaiters`: a wait ends true once the number reaches its value, false once its time runs
/// out, and each ends exactly once, however many wait at once.
@Suite(.timeLimit(.minutes(1))) struct SequenceWaitersTests {
    @Test func aWaitForAValueReachedEndsAtOnce() async {
        let waiters = SequenceWaiters()
        waiters.advance(to: 5)
        #expect(await waiters.wait(for: 5, timeout: .seconds(60)))
        #expect(await waiters.wait(for: 3, timeout: .seconds(60)))
        #expect(waiters.reached == 5)
    }

    @Test func aWaitNobodyAnswersEndsFalseOnceItsTimeRunsOut() async {
        let waiters = SequenceWaiters()
        #expect(await waiters.wait(for: 1, timeout: .milliseconds(30)) == false)
    }

    /// Waits of several values and timeouts at once: those whose value is reached end true, the rest
    /// false once their time runs out — none is left waiting, none is answered twice (a continuation
    /// resumed twice traps).
    @Test func manyWaitsAtOnceEachEndOnceWithTheRightAnswer() async {
        let waiters = SequenceWaiters()
        let answers = await withTaskGroup(of: (Int64, Bool).self, returning: [Int64: [Bool]].self) { group in
            for index in 0..<300 {
                let value = Int64(index % 10 + 1)
                // The values a later advance reaches wait long; the others time out quickly.
                let timeout: Duration = value <= 5 ? .seconds(20) : .milliseconds(Int64(index % 7) * 20)
                group.addTask { (value, await waiters.wait(for: value, timeout: timeout)) }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(300))
                waiters.advance(to: 5)
                return (0, true)
            }
            var answers: [Int64: [Bool]] = [:]
            for await (value, answer) in group where value > 0 { answers[value, default: []].append(answer) }
            return answers
        }
        #expect(answers.values.reduce(0) { $0 + $1.count } == 300)
        for value in Int64(1)...10 {
            #expect(answers[value]?.allSatisfy { $0 == (value <= 5) } == true, "value \(value)")
        }
        // And a later wait is still answered either way.
        #expect(await waiters.wait(for: 6, timeout: .milliseconds(10)) == false)
        waiters.advance(to: 6)
        #expect(await waiters.wait(for: 6, timeout: .milliseconds(10)))
    }
}
