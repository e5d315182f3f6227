/// How long one connection may take over each part of a request, and how many may be open: what
/// keeps a client that sends half a request, or nothing, from holding the server's sockets and
/// memory (issue 9). `cip serve` sets them from its flags.
public struct ConnectionLimits: Sendable {
    /// From the first byte of a request (or the connection's opening) to the end of its head.
    public var headerTimeout: Duration
    /// From the end of a request's head to the end of its body.
    public var bodyTimeout: Duration
    /// How long a keep-alive connection may wait for its next request.
    public var idleTimeout: Duration
    /// After an answer that ends the connection, how long what the client still sends is read and
    /// dropped, so that the answer reaches it instead of a reset.
    public var lingerTimeout: Duration
    /// Open connections at most; past it the server stops accepting until one closes.
    public var maxConnections: Int
    /// The largest request body (SPEC 2.5's 413): a `100 Continue` is not sent for a larger one.
    public var maxBodyBytes: Int

    public init(
        headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(75),
        lingerTimeout: Duration = .seconds(2), maxConnections: Int = 10_000, maxBodyBytes: Int = 1 << 20
    ) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.lingerTimeout = lingerTimeout
        self.maxConnections = maxConnections
        self.maxBodyBytes = maxBodyBytes
    }

    /// Past this many open connections the server is under pressure and sheds idle ones first.
    var pressureThreshold: Int { max(1, maxConnections * 9 / 10) }
}
