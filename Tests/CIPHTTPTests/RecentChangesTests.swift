import CIPStore
import Testing

@testable import CIPChangeStream

@Suite struct RecentChangesTests {
    private func event(_ sequence: Int64) -> StreamEvent {
        StreamEvent(
            LoggedChange(
                sequence: sequence, kind: .updated, transactionID: "T\(sequence)", networkID: 1, advertiserID: nil,
                changed: [], call: "{}"))
    }

    private func sequences(_ recent: RecentChanges, after sequence: Int64) -> [Int64]? {
        recent.after(sequence).map { $0.map(\.sequence) }
    }

    @Test func keepsTheLastChangesAcrossTheEndOfItsBuffer() {
        var recent = RecentChanges(capacity: 4)
        for sequence in Int64(1)...6 { recent.append(event(sequence)) }
        #expect(recent.count == 4)
        #expect(sequences(recent, after: 2) == [3, 4, 5, 6])
        #expect(sequences(recent, after: 4) == [5, 6])
        #expect(sequences(recent, after: 6) == [])
        #expect(sequences(recent, after: 1) == nil)
    }

    @Test func aClearedBufferForgetsEverythingAndFillsAgainFromItsStart() {
        var recent = RecentChanges(capacity: 4)
        for sequence in Int64(1)...6 { recent.append(event(sequence)) }
        recent.removeAll()
        #expect(recent.count == 0)
        #expect(sequences(recent, after: 5) == nil)
        recent.removeAll()
        for sequence in Int64(10)...12 { recent.append(event(sequence)) }
        #expect(recent.count == 3)
        #expect(sequences(recent, after: 9) == [10, 11, 12])
        for sequence in Int64(13)...15 { recent.append(event(sequence)) }
        #expect(sequences(recent, after: 11) == [12, 13, 14, 15])
        #expect(sequences(recent, after: 10) == nil)
    }
}
