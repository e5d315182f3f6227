import Synchronization

/// The number of open connections across event loops, which tells each connection whether the
/// server is under pressure.
final class OpenConnections: Sendable {
    private let count = Atomic<Int>(0)
    let pressureThreshold: Int

    init(pressureThreshold: Int) {
        self.pressureThreshold = pressureThreshold
    }

    func opened() { count.wrappingAdd(1, ordering: .relaxed) }
    func closed() { count.wrappingSubtract(1, ordering: .relaxed) }
    var current: Int { count.load(ordering: .relaxed) }
    /// Near the cap: a connection with nothing in flight gives its place up after a second.
    var underPressure: Bool { current >= pressureThreshold }
}
