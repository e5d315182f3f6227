import CIPDomain
import CoreMetrics
import Prometheus

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
    }

    /// Counts one answered request and records its duration under its route pattern.
    public func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        CoreMetrics.Counter(
            label: "cip_http_requests_total",
            dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory
        ).increment()
        CoreMetrics.Timer(label: "cip_http_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            .recordNanoseconds(duration.wholeNanoseconds)
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
