import NIOCore

/// Where a stream's bytes go: the HTTP response body, or a test's buffer.
public protocol StreamSink: Sendable {
    /// Suspends while the client is not taking the bytes; throws once it has gone.
    func send(_ buffer: ByteBuffer) async throws
    /// Returns once the client has gone, so a stream with nothing to send still ends at once.
    func closed() async
}
