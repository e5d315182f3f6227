import CIPDomain
import CIPOperations
import CIPStore
import Hummingbird
import Logging

/// Settings of the HTTP API that come from configuration.
public struct APISettings: Sendable {
    /// The largest request body accepted (SPEC 2.5's 413), in bytes.
    public var maxBodyBytes: Int
    /// Requests per second per token; nil turns rate limiting off.
    public var rateLimit: Double?

    public init(maxBodyBytes: Int = 1 << 20, rateLimit: Double? = nil) {
        self.maxBodyBytes = maxBodyBytes
        self.rateLimit = rateLimit
    }
}

/// What the routes share: the store, in-memory caches in front of it, the clock and the settings.
public struct APIServices: Sendable {
    let store: any ServingStore
    let settings: APISettings
    let clock: @Sendable () -> Timestamp
    let tokens: TokenAuthenticator
    let catalog: CatalogCache
    let rateLimiter: RateLimiter?
    public let metrics: ServiceMetrics

    public init(
        store: any ServingStore, settings: APISettings, clock: @escaping @Sendable () -> Timestamp = Timestamp.now,
        metrics: ServiceMetrics = ServiceMetrics()
    ) {
        self.store = store
        self.metrics = metrics
        self.settings = settings
        self.clock = clock
        self.tokens = TokenAuthenticator(store: store)
        self.catalog = CatalogCache(store: store)
        self.rateLimiter = settings.rateLimit.map { RateLimiter(requestsPerSecond: $0) }
    }

    /// The valid token of the request, admitted by the rate limiter.
    func authenticate(_ request: Request, payload: RequestPayload?) async throws -> TokenRecord {
        let token = try await tokens.authenticate(request, payload: payload)
        try rateLimiter?.admit(token.hash)
        return token
    }
}
