import CIPDomain
import CIPStore
import Hummingbird
import Synchronization

/// Finds the request's token (header, then query, then body: SPEC 2.1) and its stored record.
///
/// Records are cached for a short time so that most requests skip the database; the cache's age is
/// below SPEC's one second, so a revocation made by any process is honoured within it.
final class TokenAuthenticator: Sendable {
    private let store: any TokenStore
    private let maxAge: Duration
    private let cache = Mutex<[TokenHash: (record: TokenRecord?, fetched: ContinuousClock.Instant)]>([:])
    private static let maxCachedTokens = 100_000

    init(store: any TokenStore, maxAge: Duration = .milliseconds(500)) {
        self.store = store
        self.maxAge = maxAge
    }

    /// The token text the request carries, by SPEC 2.1's order; nil when it carries none.
    static func presentedToken(_ request: Request, payload: RequestPayload?) -> String? {
        if let header = authorization(request.headers) {
            return token(fromAuthorization: header)
        }
        if let query = QueryParameters(request)["oauth_token"] {
            return query
        }
        return payload?.oauthToken
    }

    /// The `Authorization` field's value; several such fields are joined as `HTTPFields` joins them
    /// (no token has a comma, so that is a 401). One pass over the fields: the generic lookup by name
    /// (a lazy sequence, joined) showed in profiles of every API request.
    static func authorization(_ headers: HTTPFields) -> String? {
        var found: String?
        for field in headers where field.name == .authorization {
            guard let first = found else {
                found = field.value
                continue
            }
            found = first + ", " + field.value
        }
        return found
    }

    /// `<token>` or `Bearer <token>` (any case), without the spaces or tabs HTTP allows around it.
    /// Plain index arithmetic on the UTF-8 view: it runs on every request, and the generic slice and
    /// lazy-map version of it showed in profiles.
    static func token(fromAuthorization header: String) -> String {
        let bytes = header.utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start = bytes.index(after: start) }
        while start < end, isSpace(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        if bytes.distance(from: start, to: end) > 7, hasBearerPrefix(bytes, at: start) {
            start = bytes.index(start, offsetBy: 7)
            while start < end, isSpace(bytes[start]) { start = bytes.index(after: start) }
        }
        if start == bytes.startIndex && end == bytes.endIndex { return header }
        return String(Substring(bytes[start..<end]))
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    private static func hasBearerPrefix(_ bytes: String.UTF8View, at start: String.Index) -> Bool {
        var index = start
        for expected in "bearer ".utf8 {
            let byte = bytes[index]
            let lowered = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
            guard lowered == expected else { return false }
            index = bytes.index(after: index)
        }
        return true
    }

    /// The valid (known, unrevoked) token the request carries; throws `.notAuthorized` otherwise.
    func authenticate(_ request: Request, payload: RequestPayload?) async throws -> TokenRecord {
        guard let text = Self.presentedToken(request, payload: payload), !text.isEmpty, text.utf8.count <= 512 else {
            throw DomainError.notAuthorized
        }
        let hash = TokenHash(of: text)
        let record = try await lookup(hash)
        // The store found the record by its hash; comparing again in constant time keeps the final
        // decision independent of how far two hashes agree.
        guard let record, !record.revoked, record.hash.constantTimeEquals(hash) else {
            throw DomainError.notAuthorized
        }
        return record
    }

    private func lookup(_ hash: TokenHash) async throws -> TokenRecord? {
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[hash] }), now - cached.fetched < maxAge {
            return cached.record
        }
        let record = try await store.token(hash: hash)
        cache.withLock { entries in
            if entries.count >= Self.maxCachedTokens { entries.removeAll(keepingCapacity: true) }
            entries[hash] = (record, now)
        }
        return record
    }
}
