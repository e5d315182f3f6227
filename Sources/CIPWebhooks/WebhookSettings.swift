import CIPDomain

/// How webhooks are delivered (SPEC 9); the defaults are SPEC's, the rest are for tests and tuning.
public struct WebhookSettings: Sendable {
    public var policy: WebhookTargetPolicy
    /// Reads the key that opens the secrets `cip admin webhook create` sealed; nil while there is none
    /// (on SQLite the first `webhook create` makes it, possibly after the server started). A node
    /// without it delivers nothing.
    public var sealingKey: @Sendable () -> WebhookSealingKey?
    /// A `2xx` within this time is delivered.
    public var requestTimeout: Duration = .seconds(10)
    public var connectTimeout: Duration = .seconds(5)
    /// The first retry's delay; each later one doubles it (with jitter), up to `maxRetryDelay`.
    public var firstRetryDelay: Duration = .seconds(5)
    public var maxRetryDelay: Duration = .seconds(30 * 60)
    /// Failing for this long disables the webhook.
    public var retryLimit: Duration = .seconds(24 * 3600)
    /// Changes read from the log per round, and requests in flight per webhook (to different calls).
    public var batchSize = 100
    public var concurrencyPerWebhook = 8
    /// How long a node's claim on a webhook lasts unless renewed (a dead node's webhooks move after it).
    public var leaseDuration: Duration = .seconds(15)
    /// How often the node looks for webhooks created, disabled or enabled elsewhere (SPEC 9: within a
    /// second), and for changes no bell rang for.
    public var pollInterval: Duration = .milliseconds(500)
    /// How often the furthest-behind webhook's lag is measured for `/metrics` (a read per webhook).
    public var lagInterval: Duration = .seconds(5)

    public init(
        policy: WebhookTargetPolicy = WebhookTargetPolicy(),
        sealingKey: @escaping @Sendable () -> WebhookSealingKey? = { nil }
    ) {
        self.policy = policy
        self.sealingKey = sealingKey
    }

    /// The delay before retry number `attempt` (1 for the first): doubling from `firstRetryDelay`, at
    /// most `maxRetryDelay`, times a random factor in 0.8...1.2 so that failing webhooks spread out.
    public func retryDelay(attempt: Int) -> Duration {
        let doublings = min(max(attempt - 1, 0), 30)
        let base = min(firstRetryDelay * (1 << doublings), maxRetryDelay)
        return base * Double.random(in: 0.8...1.2)
    }
}
