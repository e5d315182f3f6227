import AsyncHTTPClient
import Foundation
import NIOCore

/// Where a client reads an organization's change stream (SPEC 8).
public struct StreamTarget: Sendable {
    public var baseURL: String
    public var token: String
    public var organizationType: String
    public var organizationID: Int64

    public init(baseURL: String, token: String, organizationType: String, organizationID: Int64) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.organizationType = organizationType
        self.organizationID = organizationID
    }

    var url: String {
        "\(baseURL)/api/2022-08-01/calls_in_progress/stream?id=\(organizationID)&organization_type=\(organizationType)"
    }
}

/// The server answered the stream with an error instead of events.
public struct StreamRefused: Error, CustomStringConvertible {
    public let status: Int
    public let body: String

    /// 401 and 403 will not change by retrying; 429 and 503 may.
    public var isFinal: Bool { status != 429 && status < 500 }
    public var description: String { "the server answered \(status): \(body)" }
}

/// One connection to a change stream: sends each event to `onEvent` until the connection ends
/// (returns) or fails (throws).
public func readStream(
    _ target: StreamTarget, lastEventID: Int64?, client: HTTPClient, query: String = "",
    onEvent: (ServerSentEvent) async throws -> Void
) async throws {
    var request = HTTPClientRequest(url: target.url + query)
    request.headers.add(name: "Authorization", value: target.token)
    request.headers.add(name: "Accept", value: "text/event-stream")
    if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
    // The stream is meant to last: its end is the connection's, not a deadline's.
    let response = try await client.execute(request, timeout: .hours(24 * 365))
    guard response.status == .ok else {
        let body = try await response.body.collect(upTo: 1 << 16)
        throw StreamRefused(status: Int(response.status.code), body: String(buffer: body))
    }
    var parser = ServerSentEventParser()
    for try await buffer in response.body {
        for event in parser.feed(buffer.readableBytesView) {
            try await onEvent(event)
        }
    }
}
