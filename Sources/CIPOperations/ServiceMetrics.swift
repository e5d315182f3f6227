import CIPDomain
import CoreMetrics
import Prometheus
import Synchronization

/// Every metric the service exports (`/metrics`, Prometheus text format). Labels carry routes,
/// statuses and results only: never ids, tokens or phone numbers.
public final class ServiceMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let liveCalls: CoreMetrics.Gauge
    private let expired: CoreMetrics.Counter
    private let purged: CoreMetrics.Counter
    private let databaseErrors: CoreMetrics.Counter
    private let events: [EventStatus: CoreMetrics.Counter]
    private let openStreams: CoreMetrics.Gauge
    private let streamEvents: CoreMetrics.Counter
    private let streamOverflows: CoreMetrics.Counter
    private let streamDelivery: CoreMetrics.Timer
    private let webhookDeliveries: [String: CoreMetrics.Counter]
    private let webhookRetries: CoreMetrics.Counter
    private let webhookLag: CoreMetrics.Gauge
    /// Handles per route, method and status, made once: making one asks the registry (a lock, the
    /// label's validation, a lookup by every label) and showed in profiles of every request.
    private let requestHandles = Mutex<[RequestLabels: RequestHandles]>([:])

    private struct RequestLabels: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private struct RequestHandles {
        let count: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(5),
        ]
        self.factory = factory
        liveCalls = CoreMetrics.Gauge(label: "cip_live_calls", factory: factory)
        expired = CoreMetrics.Counter(label: "cip_calls_expired_total", factory: factory)
        purged = CoreMetrics.Counter(label: "cip_completed_calls_purged_total", factory: factory)
        databaseErrors = CoreMetrics.Counter(label: "cip_database_errors_total", factory: factory)
        var events: [EventStatus: CoreMetrics.Counter] = [:]
        for status in [EventStatus.applied, .duplicate, .ignored, .rejected] {
            events[status] = CoreMetrics.Counter(
                label: "cip_telephony_events_total", dimensions: [("result", status.rawValue)], factory: factory)
        }
        self.events = events
        openStreams = CoreMetrics.Gauge(label: "cip_streams_open", factory: factory)
        streamEvents = CoreMetrics.Counter(label: "cip_stream_events_sent_total", factory: factory)
        streamOverflows = CoreMetrics.Counter(label: "cip_stream_overflows_total", factory: factory)
        streamDelivery = CoreMetrics.Timer(label: "cip_stream_delivery_seconds", factory: factory)
        var webhookDeliveries: [String: CoreMetrics.Counter] = [:]
        for result in ["delivered", "failed", "gone"] {
            webhookDeliveries[result] = CoreMetrics.Counter(
                label: "cip_webhook_deliveries_total", dimensions: [("result", result)], factory: factory)
        }
        self.webhookDeliveries = webhookDeliveries
        webhookRetries = CoreMetrics.Counter(label: "cip_webhook_retries_total", factory: factory)
        webhookLag = CoreMetrics.Gauge(label: "cip_webhook_lag_seconds", factory: factory)
    }

    /// Counts one answered request and records its duration under its route pattern.
    public func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let labels = RequestLabels(route: route, method: method, status: status)
        let handles =
            requestHandles.withLock { $0[labels] }
            ?? requestHandles.withLock { handles in
                // Routes are patterns and statuses few, so the map stays small.
                let made = RequestHandles(
                    count: CoreMetrics.Counter(
                        label: "cip_http_requests_total",
                        dimensions: [("route", route), ("method", method), ("status", String(status))],
                        factory: factory),
                    duration: CoreMetrics.Timer(
                        label: "cip_http_request_duration_seconds", dimensions: [("route", route)], factory: factory))
                handles[labels] = made
                return made
            }
        handles.count.increment()
        handles.duration.recordNanoseconds(duration.wholeNanoseconds)
    }

    public func recordEvent(_ status: EventStatus) {
        events[status]?.increment()
    }

    public func recordExpired(_ count: Int) {
        if count > 0 { expired.increment(by: count) }
    }

    public func recordPurged(_ count: Int) {
        if count > 0 { purged.increment(by: count) }
    }

    public func recordDatabaseError() {
        databaseErrors.increment()
    }

    public func setOpenStreams(_ count: Int) {
        openStreams.record(count)
    }

    /// Counts changes written to one stream, and how long the oldest of them took from its commit to
    /// being written (one sample per write, not per change, so fan-out stays cheap).
    public func recordStreamEvents(_ count: Int, oldestCommittedAt: Timestamp?) {
        streamEvents.increment(by: count)
        guard let oldestCommittedAt else { return }
        let latency = max(0, Timestamp.now().milliseconds - oldestCommittedAt.milliseconds)
        streamDelivery.recordMilliseconds(latency)
    }

    public func recordStreamOverflow() {
        streamOverflows.increment()
    }

    /// One attempt to deliver a change to a webhook: `delivered`, `failed` or `gone` (410).
    public func recordWebhookDelivery(_ result: String) {
        webhookDeliveries[result]?.increment()
    }

    /// A webhook's round of deliveries failed and waits to be retried.
    public func recordWebhookRetry() {
        webhookRetries.increment()
    }

    /// How long the oldest change not yet delivered to a webhook (the furthest behind) has waited.
    public func setWebhookLag(milliseconds: Int64) {
        webhookLag.record(Double(milliseconds) / 1000)
    }

    public func setLiveCalls(_ count: Int) {
        liveCalls.record(count)
    }

    /// The Prometheus text exposition of every metric.
    public func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
