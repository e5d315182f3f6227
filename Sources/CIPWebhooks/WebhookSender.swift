import AsyncHTTPClient
import CIPDomain
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// POSTs one change to one webhook, signed as the Standard Webhooks specification says (SPEC 9).
///
/// Each webhook has its own client, so its own connections: webhooks whose endpoints share a host
/// (one SaaS's hooks for many customers) would otherwise share one pool, and an endpoint that never
/// answers would hold every connection the others need.
struct WebhookSender: Sendable {
    let client: HTTPClient
    let settings: WebhookSettings
    let userAgent: String

    init(settings: WebhookSettings, userAgent: String) {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .nanoseconds(settings.connectTimeout.wholeNanoseconds),
                read: .nanoseconds(settings.requestTimeout.wholeNanoseconds)))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = settings.concurrencyPerWebhook
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        self.settings = settings
        self.userAgent = userAgent
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    enum Outcome: Sendable, Equatable {
        case delivered
        /// `410 Gone`: the receiver asks for the webhook to stop.
        case gone
        case failed(String)
    }

    /// The `webhook-id` of a change for a webhook: the same on every retry, different for every
    /// change and every webhook.
    static func messageID(webhook: Int64, sequence: Int64) -> String {
        "msg_\(webhook)_\(sequence)"
    }

    func send(_ body: [UInt8], messageID: String, to url: WebhookURL, secret: WebhookSecret) async -> Outcome {
        let timestamp = Int64(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: url.text)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: userAgent)
        request.headers.add(name: "webhook-id", value: messageID)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(
            name: "webhook-signature", value: secret.signature(id: messageID, timestamp: timestamp, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(
                request, timeout: .nanoseconds(settings.requestTimeout.wholeNanoseconds))
            // The answer's body is not read beyond what arrives with it: nothing in it matters.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            switch response.status.code {
            case 200..<300: return .delivered
            case 410: return .gone
            default: return .failed("the endpoint answered \(response.status.code)")
            }
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            return .failed("no answer within \(settings.requestTimeout)")
        } catch {
            return .failed("could not reach the endpoint: \(error)")
        }
    }

    /// Why the URL's host may not be called now, after resolving its name; nil when it may. Asked
    /// once per round of deliveries (not per request: one DNS lookup for up to 100 changes).
    func refusal(of url: WebhookURL) async -> WebhookRefusal? {
        if settings.policy.allowPrivate { return nil }
        let addresses: [IPAddress]
        if let literal = IPAddress(url.host) {
            addresses = [literal]
        } else {
            do {
                addresses = try await NIOThreadPool.singleton.runIfActive { try Self.resolve(url.host) }
            } catch {
                return WebhookRefusal("could not be resolved (\(url.host))")
            }
        }
        for address in addresses {
            if let refusal = settings.policy.refusal(of: address) { return refusal }
        }
        return nil
    }

    /// Every address `host` resolves to (getaddrinfo, which blocks: run it off the event loops).
    private static func resolve(_ host: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else {
            throw WebhookRefusal("could not be resolved")
        }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    var v4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    if let ip = IPAddress(bytes: withUnsafeBytes(of: &v4) { Array($0) }) { addresses.append(ip) }
                case AF_INET6:
                    var v6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    if let ip = IPAddress(bytes: withUnsafeBytes(of: &v6) { Array($0) }) { addresses.append(ip) }
                default: break
                }
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }
}
