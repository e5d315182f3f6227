import CIPDomain
import Synchronization

/// Per-token token buckets (SPEC 2.5's 429): `rate` requests a second, bursts up to `rate`.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let rate: Double
    private let buckets = Mutex<[TokenHash: Bucket]>([:])

    init(requestsPerSecond: Double) {
        self.rate = requestsPerSecond
    }

    /// Takes one request from `token`'s bucket; throws `.rateLimited` when it is empty.
    func admit(_ token: TokenHash) throws {
        let now = ContinuousClock.now
        let admitted = buckets.withLock { buckets -> Bool in
            var bucket = buckets[token] ?? Bucket(tokens: rate, updated: now)
            let elapsed = now - bucket.updated
            let seconds = elapsed.inSeconds
            bucket.tokens = min(rate, bucket.tokens + seconds * rate)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            buckets[token] = bucket
            return allowed
        }
        if !admitted { throw DomainError.rateLimited(retryAfterSeconds: 1) }
    }
}
