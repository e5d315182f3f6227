import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1 child channel with `ConnectionGuard` in its pipeline.
///
/// Hummingbird's own `HTTP1Channel` has one idle timeout and no per-request deadlines, and it sees
/// requests only after their conversion to HTTP types, which drops the HTTP version (so HTTP/1.0's
/// default close is lost); the guard sits where the version, the raw bytes and parse errors are
/// still visible. Handling the parts once decoded is Hummingbird's, unchanged.
public struct GuardedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    public typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    public let responder: HTTPChannelHandler.Responder
    let limits: ConnectionLimits
    let connections: OpenConnections

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let connectionGuard = ConnectionGuard(limits: limits, connections: connections, logger: logger)
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(RequestStartWatcher(connectionGuard))
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: .init())
            try pipeline.addHandler(connectionGuard)
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            // Hummingbird's handler still closes idle connections when the server shuts down.
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    public func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// An HTTP/1 server whose connections are held to `limits`.
    public static func guardedHTTP1(_ limits: ConnectionLimits) -> HTTPServerBuilder {
        let connections = OpenConnections(pressureThreshold: limits.pressureThreshold)
        return .init { responder in
            GuardedHTTP1Channel(responder: responder, limits: limits, connections: connections)
        }
    }
}
