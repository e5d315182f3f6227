import Foundation

/// The random draws of the simulation.
struct Sampling {
    var generator = SystemRandomNumberGenerator()

    mutating func uniform() -> Double {
        // (0, 1]: never 0, so logarithms stay finite.
        (Double(generator.next() >> 11) + 1) / Double(1 << 53)
    }

    mutating func exponential(rate: Double) -> Double {
        -log(uniform()) / rate
    }

    mutating func standardNormal() -> Double {
        sqrt(-2 * log(uniform())) * cos(2 * .pi * uniform())
    }

    mutating func logNormal(median: Double, sigma: Double) -> Double {
        median * exp(sigma * standardNormal())
    }

    mutating func chance(_ probability: Double) -> Bool {
        uniform() <= probability
    }

    mutating func pick<T>(_ values: [T]) -> T {
        values[Int(generator.next(upperBound: UInt64(values.count)))]
    }

    mutating func digits(_ count: Int, firstFrom low: Int = 0) -> String {
        var text = String(Int(generator.next(upperBound: UInt64(10 - low))) + low)
        for _ in 1..<count { text += String(generator.next(upperBound: UInt64(10))) }
        return text
    }
}
