/// SPEC 8's bounds on one node's streams.
public struct StreamLimits: Sendable {
    /// Open streams per token on this node; one more is answered `429`.
    public var maxStreamsPerToken: Int
    /// Changes a stream may have waiting before it is sent `overflow` and closed.
    public var maxPending: Int
    /// How long a change may wait for a stream before the stream is sent `overflow` and closed.
    public var maxLag: Duration
    /// A comment is sent after this long without anything else.
    public var keepAlive: Duration
    /// How often the follower reads the log when nothing rang (a notification lost in an outage).
    public var pollInterval: Duration
    /// How often open streams are checked: lag, keep-alive, revoked tokens.
    public var sweepInterval: Duration
    /// Recent changes kept in memory for streams that catch up; older ones are read from the log.
    public var recentChanges: Int

    public init(
        maxStreamsPerToken: Int = 20, maxPending: Int = 10_000, maxLag: Duration = .seconds(30),
        keepAlive: Duration = .seconds(15), pollInterval: Duration = .milliseconds(500),
        sweepInterval: Duration = .milliseconds(100), recentChanges: Int = 16_384
    ) {
        self.maxStreamsPerToken = maxStreamsPerToken
        self.maxPending = maxPending
        self.maxLag = maxLag
        self.keepAlive = keepAlive
        self.pollInterval = pollInterval
        self.sweepInterval = sweepInterval
        self.recentChanges = recentChanges
    }
}
