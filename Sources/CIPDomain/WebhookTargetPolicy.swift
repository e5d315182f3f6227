import Foundation

/// Which webhook URLs and addresses may be called (SPEC 9): `https://` unless insecure webhooks are
/// allowed; no loopback, private, link-local, multicast (or unspecified, broadcast, shared, reserved)
/// address unless private targets are allowed.
public struct WebhookTargetPolicy: Sendable, Hashable {
    public var allowInsecure: Bool
    public var allowPrivate: Bool

    public init(allowInsecure: Bool = false, allowPrivate: Bool = false) {
        self.allowInsecure = allowInsecure
        self.allowPrivate = allowPrivate
    }

    /// The URL's parts the delivery needs, or why it is refused, judged from the URL as written.
    public func check(url text: String) -> Result<WebhookURL, WebhookRefusal> {
        guard text.utf8.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
            let host = url.host, !host.isEmpty
        else { return .failure(.init("is not an absolute http(s) URL")) }
        guard scheme == "https" || scheme == "http" else { return .failure(.init("must be an https:// URL")) }
        if scheme == "http" && !allowInsecure {
            return .failure(.init("must be an https:// URL (http:// needs --allow-insecure-webhooks)"))
        }
        guard url.user == nil && url.password == nil else {
            return .failure(.init("must not carry a user name or password"))
        }
        let bareHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if !allowPrivate {
            let lowered = bareHost.lowercased()
            if lowered == "localhost" || lowered.hasSuffix(".localhost") {
                return .failure(.init("targets a loopback address (allowed with --allow-private-webhook-targets)"))
            }
            if let address = IPAddress(bareHost), let kind = address.restrictedKind {
                return .failure(.init("targets a \(kind) address (allowed with --allow-private-webhook-targets)"))
            }
        }
        return .success(WebhookURL(text: text, host: bareHost, port: url.port ?? (scheme == "https" ? 443 : 80)))
    }

    /// Why a resolved address may not be called; nil when it may.
    public func refusal(of address: IPAddress) -> WebhookRefusal? {
        guard !allowPrivate, let kind = address.restrictedKind else { return nil }
        return .init("resolves to a \(kind) address \(address) (allowed with --allow-private-webhook-targets)")
    }
}

public struct WebhookURL: Sendable, Hashable {
    public let text: String
    public let host: String
    public let port: Int
}

public struct WebhookRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// An IPv4 or IPv6 address, as bytes.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// A literal address (`10.0.0.1`, `::1`, and the legacy IPv4 forms resolvers still accept:
    /// `2130706433`, `0x7f.1`, `127.1`); nil for a name.
    public init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 || inet_aton(text, &v4) != 0 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }

    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }

    /// What kind of address no public webhook target can be; nil for a public address.
    public var restrictedKind: String? {
        if bytes.count == 4 { return Self.restrictedV4(bytes) }
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms are judged as the IPv4 address.
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return Self.restrictedV4(Array(bytes[12...]))
        }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) { return bytes[15] == 1 ? "loopback" : "unspecified" }
        if bytes[0] == 0xFF { return "multicast" }
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return "link-local" }
        if bytes[0] & 0xFE == 0xFC { return "private" }
        if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0D && bytes[3] == 0xB8 { return "reserved" }
        if bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xFF && bytes[3] == 0x9B {
            return Self.restrictedV4(Array(bytes[12...]))  // NAT64 of an IPv4 address
        }
        return nil
    }

    private static func restrictedV4(_ b: [UInt8]) -> String? {
        switch (b[0], b[1]) {
        case (0, _): return "unspecified"
        case (127, _): return "loopback"
        case (10, _), (172, 16...31), (192, 168): return "private"
        case (100, 64...127): return "shared"
        case (169, 254): return "link-local"
        case (224...239, _): return "multicast"
        case (240...255, _): return "reserved"
        case (192, 0) where b[2] == 0: return "reserved"
        default: return nil
        }
    }
}
