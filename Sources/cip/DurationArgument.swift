import ArgumentParser

/// A duration on the command line: `90s`, `15m`, `4h`, `30d`, or a number of seconds.
struct DurationArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let duration: Duration
    let description: String

    init?(argument: String) {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var text = Substring(argument)
        var multiplier: Int64 = 1
        if let last = text.last, let unit = units[last] {
            multiplier = unit
            text = text.dropLast()
        }
        guard let amount = Int64(text), amount > 0 else { return nil }
        duration = .seconds(amount * multiplier)
        description = argument
    }

    init(seconds: Int64, description: String) {
        duration = .seconds(seconds)
        self.description = description
    }

    /// The duration in environment variable `name`, else `fallback` (`"10s"`, `"4h"`).
    static func environment(_ name: String, else fallback: String) -> DurationArgument {
        Environment.value(name).flatMap(DurationArgument.init) ?? DurationArgument(argument: fallback)!
    }
}
