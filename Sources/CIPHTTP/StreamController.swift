import CIPChangeStream
import CIPDomain
import HTTPTypes
import Hummingbird
import NIOCore

/// SPEC 8: `GET .../calls_in_progress/stream`, the change stream as Server-Sent Events.
struct StreamController: Sendable {
    let services: APIServices

    func stream(_ request: CheckedRequest) async throws -> Response {
        let params = request.params
        var errors = request.validationErrors()
        let ref = OrganizationParams.parse(params, errors: &errors)
        let lastEventID = Self.lastEventID(request.request, params, errors: &errors)
        var organization: ResolvedOrganization?
        if let ref { (_, organization) = try await services.catalog.resolve(ref, for: request.token) }
        guard errors.isEmpty else { throw DomainError.invalid(errors) }
        let scope = CallScope(try request.authorize(organization, toAct: .read))
        // Registered before the answer starts, so a refusal (429, 503) is still a JSON answer.
        let stream = try await services.changeStreams.open(scope, tokenID: request.token.id, lastEventID: lastEventID)
        let headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store",
            // Proxies such as nginx would otherwise hold events back to fill a buffer.
            HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let sink = BodySink(
                    writer: UncheckedBodyWriter(writer), closeFuture: request.context.channel.closeFuture)
                try await stream.run(sink)
                try await writer.finish(nil)
            })
    }

    /// `Last-Event-ID` (what browsers send when they reconnect), else `?last_event_id=`: a
    /// non-negative integer.
    static func lastEventID(_ request: Request, _ params: QueryParameters, errors: inout ValidationErrors) -> Int64? {
        guard let text = request.headers[HTTPField.Name("Last-Event-ID")!] ?? params["last_event_id"] else {
            return nil
        }
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let value = Int64(text)
        else {
            errors.add("last_event_id", "must be a non-negative integer")
            return nil
        }
        return value
    }
}

/// The response body writer, moved into the task that writes the stream while the handler's task
/// waits for it to end (it is used by one task at a time: the writing task, then the handler).
private final class UncheckedBodyWriter: @unchecked Sendable {
    var writer: any ResponseBodyWriter

    init(_ writer: any ResponseBodyWriter) {
        self.writer = writer
    }
}

private struct BodySink: StreamSink {
    let writer: UncheckedBodyWriter
    let closeFuture: EventLoopFuture<Void>

    func send(_ buffer: ByteBuffer) async throws {
        try await writer.writer.write(buffer)
    }

    func closed() async {
        // A future's wait cannot be cancelled; a stream's can, and ends when the stream must.
        let (closing, closed) = AsyncStream.makeStream(of: Void.self)
        closeFuture.whenComplete { _ in closed.finish() }
        for await _ in closing {}
    }
}
