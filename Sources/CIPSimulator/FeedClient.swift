import CIPDomain
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Posts batches to a server's telephony feed.
struct FeedClient: Sendable {
    let baseURL: URL
    let token: String
    let session: URLSession

    init(baseURL: URL, token: String) {
        self.baseURL = baseURL
        self.token = token
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        self.session = URLSession(configuration: configuration)
    }

    /// The status of each event, in order; throws when the request as a whole fails.
    func post(_ events: [String]) async throws -> [String] {
        var request = URLRequest(url: baseURL.appendingPathComponent("api/2022-08-01/telephony/call_events.json"))
        request.httpMethod = "POST"
        request.setValue(token, forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(("{\"events\":[" + events.joined(separator: ",") + "]}").utf8)
        let (data, response) = try await session.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200, let results = JSONValue.parse(data)?.objectValue?["results"],
            case .array(let entries) = results
        else {
            throw FeedError.status(status, String(decoding: data.prefix(200), as: UTF8.self))
        }
        return entries.map { $0.objectValue?["status"]?.stringValue ?? "unknown" }
    }

    /// Waits up to `attempts` half-seconds for the server's `/health`.
    func waitUntilReachable(attempts: Int = 60) async -> Bool {
        for _ in 0..<attempts {
            if let (_, response) = try? await session.data(from: baseURL.appendingPathComponent("health")),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return true
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
        return false
    }
}

enum FeedError: Error, CustomStringConvertible {
    case status(Int, String)

    var description: String {
        switch self {
        case .status(let code, let body): return "feed answered \(code): \(body)"
        }
    }
}
