import Foundation

/// What the simulator has done so far, as its progress line shows it.
public struct SimulationStats: Sendable, Equatable {
    public var started = 0
    public var ended = 0
    public var events = 0
    public var errors = 0
    public var live: Int { started - ended }

    /// One line: calls started, ended, live now, events per second, errors.
    public func line(eventsPerSecond: Double) -> String {
        "calls started \(started) · ended \(ended) · live \(live) · \(Int(eventsPerSecond.rounded())) events/s · errors \(errors)"
    }
}

/// Shows progress: one line rewritten in place on a terminal, plain periodic lines otherwise.
struct ProgressReporter {
    let onTerminal: Bool
    let write: @Sendable (String) -> Void
    private var lastEvents = 0
    private var lastReport = ContinuousClock.now
    private var lastPlainLine = ContinuousClock.now

    init(onTerminal: Bool, write: @escaping @Sendable (String) -> Void) {
        self.onTerminal = onTerminal
        self.write = write
    }

    mutating func report(_ stats: SimulationStats, final: Bool = false) {
        let now = ContinuousClock.now
        let elapsed = now - lastReport
        guard final || elapsed >= .seconds(1) else { return }
        let seconds = elapsed.inSeconds
        let rate = seconds > 0 ? Double(stats.events - lastEvents) / seconds : 0
        lastEvents = stats.events
        lastReport = now
        let line = stats.line(eventsPerSecond: rate)
        if onTerminal {
            write("\r\u{1B}[K" + line + (final ? "\n" : ""))
        } else if final || now - lastPlainLine >= .seconds(10) {
            lastPlainLine = now
            write(line + "\n")
        }
    }
}
