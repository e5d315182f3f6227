import Logging
import NIOCore
import NIOHTTP1

/// Watches one HTTP/1 connection from below Hummingbird and ends it when its client stalls or the
/// request cannot be read (issue 9).
///
/// - A request's head must arrive within `headerTimeout`, its body within `bodyTimeout`, and a
///   keep-alive connection's next request within `idleTimeout`; a late request is answered `408`.
///   Near the connection cap, a connection with nothing in flight is closed after a second.
/// - A connection is closed after the answer when the client asked (`Connection: close`, HTTP/1.0
///   without keep-alive), when the request could not be read, or when it was answered before its
///   body arrived (a 401 or 413): the rest of the body is read and dropped for `lingerTimeout`, then
///   the socket is closed, so no socket is left waiting on a client that keeps sending.
/// - A head that cannot be parsed is answered SPEC 2.5's `400` and logged; `Expect: 100-continue`
///   is answered at once (unless the announced body is over the limit).
///
/// Every event runs on the channel's event loop, so the state needs no lock.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Inbound {
        /// No request being read; `firstRequest` until the connection's first one starts.
        case betweenRequests
        case head
        case body
    }

    private let limits: ConnectionLimits
    private let connections: OpenConnections
    private let logger: Logger

    private var inbound = Inbound.betweenRequests
    private var firstRequest = true
    /// When `inbound` last changed, or the last answer ended: what every deadline counts from.
    private var since = NIODeadline.now()
    /// Requests whose answer has not ended yet.
    private var pendingResponses = 0
    private var responding = false
    /// The answer being written is an event stream (SPEC 8), which only the server ends.
    private var streaming = false
    private var keepAlive = true
    private var requestIsHTTP10 = false
    private var closeAfterResponse = false
    /// Set once the output is closed: everything read is dropped until the socket closes.
    private var lingeringSince: NIODeadline?
    private var counted = false
    private var tick: RepeatedTask?

    init(limits: ConnectionLimits, connections: OpenConnections, logger: Logger) {
        self.limits = limits
        self.connections = connections
        self.logger = logger
    }

    // MARK: Lifetime

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        if inbound == .body && lingeringSince == nil {
            // The body will never be whole: the route reading it must fail, not see a shorter body.
            context.fireErrorCaught(IncompleteRequest.connectionClosed)
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        connections.opened()
        since = .now()
        let period = TimeAmount(Self.tickPeriod(limits))
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        tick = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            let (handler, context) = loopBound.value
            handler.checkDeadlines(context)
        }
    }

    private func stop() {
        tick?.cancel()
        tick = nil
        if counted {
            counted = false
            connections.closed()
        }
    }

    /// Deadlines are checked on a tick rather than with a timer per request, so a request costs no
    /// timer scheduling; they hold to within one tick.
    static func tickPeriod(_ limits: ConnectionLimits) -> Duration {
        let shortest = [limits.headerTimeout, limits.bodyTimeout, limits.idleTimeout, limits.lingerTimeout].min()!
        return max(.milliseconds(50), min(.seconds(1), shortest / 4))
    }

    // MARK: Inbound

    /// The first bytes of a request after a keep-alive wait.
    func bytesArrived() {
        if inbound == .betweenRequests && lingeringSince == nil {
            inbound = .head
            since = .now()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // While an event stream is written, nothing its client sends is read by anyone above.
        if lingeringSince != nil || (responding && streaming) { return }
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let head):
            pendingResponses += 1
            firstRequest = false
            keepAlive = head.isKeepAlive
            since = .now()
            requestIsHTTP10 = head.version.major == 1 && head.version.minor == 0
            inbound = Self.hasBody(head) ? .body : .betweenRequests
            if Self.expectsContinue(head) && inbound == .body && !Self.announcesMoreThan(limits.maxBodyBytes, head) {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
        case .body:
            break
        case .end:
            inbound = .betweenRequests
            since = .now()
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if lingeringSince != nil || (responding && streaming) {
            // Nobody above reads any more: keep reading so that the client's FIN is seen.
            context.read()
            return
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if lingeringSince != nil || (responding && streaming), let event = event as? ChannelEvent,
            event == .inputClosed
        {
            // Remote half-closure is allowed, so a client's FIN arrives as this event, not as the
            // channel's close: an event stream's client that closed its side has gone.
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if lingeringSince != nil { return }
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        logger.info("unreadable request", metadata: ["error": "\(parseError)"])
        closeAfterResponse = true
        if pendingResponses > 0 && inbound == .body && !responding {
            // The route is reading this body: let its read fail, and its answer is the 400.
            context.fireErrorCaught(parseError)
        } else if !responding {
            answer(context, .badRequest, Self.badRequestBody(parseError))
        }
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if lingeringSince != nil {
            // The connection was answered and closed for output already (a timeout or a bad request).
            promise?.fail(ChannelError.outputClosed)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(var head):
            responding = true
            streaming = head.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true
            if streaming {
                // Read on, so that a client that leaves is noticed at once (the route reads nothing
                // more); the connection closes with the stream, as what it sent meanwhile is dropped.
                closeAfterResponse = true
                context.read()
            }
            // Answered before its body arrived (401, 413): the rest is not worth reading.
            if inbound != .betweenRequests || !keepAlive { closeAfterResponse = true }
            if closeAfterResponse {
                head.headers.replaceOrAdd(name: "connection", value: "close")
            } else if requestIsHTTP10 {
                // An HTTP/1.0 client that asked for keep-alive needs to hear it was granted.
                head.headers.replaceOrAdd(name: "connection", value: "keep-alive")
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            responding = false
            streaming = false
            pendingResponses = max(0, pendingResponses - 1)
            context.writeAndFlush(data, promise: promise)
            if closeAfterResponse {
                linger(context)
            } else if pendingResponses == 0 {
                since = .now()
            }
        }
    }

    // MARK: Ending a connection

    /// Writes a whole answer of the guard's own, then closes the connection.
    private func answer(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ body: String) {
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json; charset=utf-8")
        headers.add(name: "content-length", value: String(buffer.readableBytes))
        headers.add(name: "connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        linger(context)
    }

    /// Closes the output after what was written, then reads and drops what the client still sends
    /// until it closes or `lingerTimeout` passes.
    private func linger(_ context: ChannelHandlerContext) {
        guard lingeringSince == nil else { return }
        lingeringSince = .now()
        if inbound == .body {
            context.fireErrorCaught(IncompleteRequest.answeredEarly)
        }
        context.close(mode: .output, promise: nil)
        context.read()
    }

    private func checkDeadlines(_ context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        if let lingeringSince {
            if now - lingeringSince >= TimeAmount(limits.lingerTimeout) { context.close(promise: nil) }
            return
        }
        let waited = now - since
        switch inbound {
        case .head where waited >= TimeAmount(limits.headerTimeout),
            .body where waited >= TimeAmount(limits.bodyTimeout):
            logger.info("request timed out", metadata: ["waiting_for": "\(inbound == .head ? "head" : "body")"])
            // An answer of our own would come before one the route is still writing or working on.
            if responding || (inbound == .head && pendingResponses > 0) || pendingResponses > 1 {
                context.close(promise: nil)
            } else {
                closeAfterResponse = true
                answer(context, .requestTimeout, #"{"error":"RequestTimeout"}"#)
            }
        case .betweenRequests where pendingResponses == 0:
            let limit = firstRequest ? limits.headerTimeout : limits.idleTimeout
            if waited >= TimeAmount(limit) || (connections.underPressure && waited >= .seconds(1)) {
                context.close(promise: nil)
            }
        default:
            break
        }
    }
}
