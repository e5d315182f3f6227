import CIPDomain
import Synchronization
import Testing

/// A batch's work split across threads gives what the same work on one thread gives.
@Suite("Work of one batch on several threads")
struct ParallelWorkTests {
    @Test(arguments: [0, 1, 255, 256, 1000, 4099])
    func mapKeepsEveryElementInItsPlace(count: Int) {
        let elements = (0..<count).map { "e\($0)" }
        #expect(ParallelWork.map(elements) { $0 + "!" } == elements.map { $0 + "!" })
    }

    @Test func alongsideGivesBothResults() {
        let (aside, main) = ParallelWork.alongside({ (0..<1000).reduce(0, +) }, { "main" })
        #expect(aside == 499_500)
        #expect(main == "main")
    }

    struct Refused: Error {}

    @Test func alongsideWaitsForTheOtherThreadWhenMainThrows() {
        let finished = Mutex(false)
        #expect(throws: Refused.self) {
            _ = try ParallelWork.alongside(
                {
                    var total = 0
                    for value in 0..<2_000_000 { total &+= value }
                    finished.withLock { $0 = true }
                    return total
                }, { () throws -> Int in throw Refused() })
        }
        #expect(finished.withLock { $0 })
    }
}
