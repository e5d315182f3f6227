import Foundation

/// What `cip simulate` (and `serve --demo`) sends, and how much of it.
public struct SimulationSettings: Sendable {
    /// Mean new calls per second (Poisson arrivals).
    public var callsPerSecond: Double
    /// How long to run; nil runs until stopped.
    public var duration: Duration?
    /// Median call length, in seconds, of the log-normal call lengths.
    public var medianCallSeconds: Double
    /// The log-normal's σ: larger means a longer tail of long calls.
    public var callLengthSigma: Double
    /// The network the calls belong to, and its advertisers (calls go to them at random).
    public var networkID: Int64
    public var advertiserIDs: [Int64]
    /// Whether calls carry custom data; the network must define the fields of `CallScript`.
    public var sendsCustomData: Bool
    /// Start with the calls that would already be in progress at this rate, so the live count is
    /// at its steady state from the first second instead of after several call lengths.
    public var warmStart: Bool

    public init(
        callsPerSecond: Double = 5, duration: Duration? = nil, medianCallSeconds: Double = 180,
        callLengthSigma: Double = 0.9, networkID: Int64 = 1, advertiserIDs: [Int64] = [], sendsCustomData: Bool = true,
        warmStart: Bool = true
    ) {
        self.callsPerSecond = callsPerSecond
        self.duration = duration
        self.medianCallSeconds = medianCallSeconds
        self.callLengthSigma = callLengthSigma
        self.networkID = networkID
        self.advertiserIDs = advertiserIDs
        self.sendsCustomData = sendsCustomData
        self.warmStart = warmStart
    }

    /// The mean call length of the log-normal: median · e^(σ²/2).
    public var meanCallSeconds: Double {
        medianCallSeconds * exp(callLengthSigma * callLengthSigma / 2)
    }

    /// Little's law: the number of calls in progress at steady state.
    public var expectedLiveCalls: Double {
        callsPerSecond * meanCallSeconds
    }
}
