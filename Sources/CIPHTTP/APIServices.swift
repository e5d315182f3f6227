import CIPChangeStream
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
    /// The change stream's bounds (SPEC 8).
    public var streams: StreamLimits

    public init(maxBodyBytes: Int = 1 << 20, rateLimit: Double? = nil, streams: StreamLimits = StreamLimits()) {
        self.maxBodyBytes = maxBodyBytes
        self.rateLimit = rateLimit
        self.streams = streams
    }
}

/// What the routes share: the store, in-memory caches in front of it, the clock and the settings.
public struct APIServices: Sendable {
    let store: any ServingStore
    let settings: APISettings
    let clock: @Sendable () -> Timestamp
    let tokens: TokenAuthenticator
    let catalog: CatalogCache
    /// Catalog refreshes run one at a time: a refresh that finds nothing new must not answer while
    /// another one is still carrying a rename onto the live calls (an admin `PATCH` answered before
    /// its rename shows, when the background refresher noticed it first).
    private let catalogRefreshes = SerialGates()
    let rateLimiter: RateLimiter?
    public let metrics: ServiceMetrics
    /// The node's change streams: a service that must run for `/stream` to answer, and must stop
    /// before the server does (it ends the streams, which would otherwise hold the server open).
    public let changeStreams: ChangeStreams

    public init(
        store: any ServingStore, settings: APISettings, clock: @escaping @Sendable () -> Timestamp = Timestamp.now,
        metrics: ServiceMetrics = ServiceMetrics(), logger: Logger = Logger(label: "cip")
    ) {
        self.store = store
        self.metrics = metrics
        self.changeStreams = ChangeStreams(store: store, limits: settings.streams, metrics: metrics, logger: logger)
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

extension APIServices {
    /// Brings this node's catalog up to date and carries any advertiser rename it reveals onto the
    /// live calls (as changes of those calls, so streams see them). Every node does this when it
    /// notices a rename; the second time changes nothing, so nodes need not agree on who does it.
    public func refreshCatalog() async throws {
        try await catalogRefreshes.run("catalog") {
            for rename in try await catalog.refresh() {
                _ = try await store.followRename(rename)
                catalog.followed(rename)
            }
        }
    }
}
