/// A min-heap of events to send, ordered by when they are due.
struct EventQueue {
    struct Entry {
        let due: Double
        let sequence: Int
        let event: SimulatedEvent
    }

    private var heap: [Entry] = []
    private var sequence = 0

    var count: Int { heap.count }

    mutating func push(_ event: SimulatedEvent, at due: Double) {
        sequence += 1
        heap.append(Entry(due: due, sequence: sequence, event: event))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns every event due at or before `time`, earliest first.
    mutating func popDue(upTo time: Double) -> [SimulatedEvent] {
        var due: [SimulatedEvent] = []
        while let first = heap.first, first.due <= time {
            due.append(first.event)
            heap.swapAt(0, heap.count - 1)
            heap.removeLast()
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count, Self.before(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count, Self.before(heap[right], heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return due
    }

    private static func before(_ lhs: Entry, _ rhs: Entry) -> Bool {
        lhs.due < rhs.due || (lhs.due == rhs.due && lhs.sequence < rhs.sequence)
    }
}
