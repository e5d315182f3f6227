import ArgumentParser
import CIPChangeStream
import CIPDomain
import CIPHTTP
import CIPOperations
import CIPWebhooks
import Hummingbird
import Logging
import ServiceLifecycle

/// `cip serve`: runs the HTTP service until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP service.")

    @Option(help: "Address to listen on (env CIP_HOST).")
    var host: String = Environment.value("CIP_HOST") ?? "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one (env CIP_PORT).")
    var port: Int = Environment.value("CIP_PORT").flatMap(Int.init) ?? 8080

    @OptionGroup var database: DatabaseOption

    @Option(help: "Largest request body accepted, in bytes (env CIP_MAX_BODY_BYTES).")
    var maxBodyBytes: Int = Environment.value("CIP_MAX_BODY_BYTES").flatMap(Int.init) ?? 1 << 20

    @Option(help: "Requests per second allowed per token; off when not set (env CIP_RATE_LIMIT).")
    var rateLimit: Double?

    private var effectiveRateLimit: Double? { rateLimit ?? Environment.value("CIP_RATE_LIMIT").flatMap(Double.init) }

    @Option(
        help:
            "trace, debug, info, notice, warning, error or critical; info logs every request, and is the default but with --demo, where it is warning (env CIP_LOG_LEVEL)."
    )
    var logLevel: String?

    @Flag(
        name: .customLong("demo"),
        help:
            "On an empty database, create a demo network and tokens, print them with curl commands, and keep simulated calls flowing (env CIP_DEMO=1)."
    )
    var demoFlag = false

    @Flag(
        name: .customLong("postgres-memory-reads"), inversion: .prefixedNo,
        help:
            "On PostgreSQL, answer reads from this node's memory, kept from the change log; --no-postgres-memory-reads reads the database for every request (env CIP_POSTGRES_MEMORY_READS=1|0; default on)."
    )
    var postgresMemoryReadsFlag: Bool?

    var postgresMemoryReads: Bool {
        postgresMemoryReadsFlag ?? Environment.flag("CIP_POSTGRES_MEMORY_READS", else: true)
    }

    @Option(help: "New simulated calls per second with --demo (env CIP_DEMO_RATE).")
    var demoRate: Double = Environment.value("CIP_DEMO_RATE").flatMap(Double.init) ?? 2

    private var demo: Bool {
        demoFlag || Environment.flag("CIP_DEMO")
    }

    private var effectiveLogLevel: String {
        logLevel ?? Environment.value("CIP_LOG_LEVEL") ?? (demo ? "warning" : "info")
    }

    @Option(help: "End calls with no event for this long, as expired: 90s, 15m, 4h, 30d (env CIP_CALL_EXPIRY).")
    var callExpiry: DurationArgument = .environment("CIP_CALL_EXPIRY", else: "4h")

    @Option(help: "Keep completed calls this long after they end (env CIP_RETENTION).")
    var retention: DurationArgument = .environment("CIP_RETENTION", else: "30d")

    @Option(
        help:
            "Keep the change log's records this long after they are committed; at least --call-expiry, which is the default when it is longer than 24h (env CIP_CHANGE_RETENTION)."
    )
    var changeRetention: DurationArgument?

    /// A live call's last change must stay in the log (a PostgreSQL snapshot may need it), so the
    /// default follows a long --call-expiry; one given explicitly is checked instead.
    private var effectiveChangeRetention: Duration {
        if let given = changeRetention ?? Environment.value("CIP_CHANGE_RETENTION").flatMap(DurationArgument.init) {
            return given.duration
        }
        return max(.seconds(86400), callExpiry.duration)
    }

    @Option(help: "How often expiry and the retention purge run (env CIP_MAINTENANCE_INTERVAL).")
    var maintenanceInterval: DurationArgument = .environment("CIP_MAINTENANCE_INTERVAL", else: "30s")

    @Option(
        help:
            "Time a client has to send a request's head, from its first byte or the connection's opening (env CIP_HEADER_TIMEOUT)."
    )
    var headerTimeout: DurationArgument = .environment("CIP_HEADER_TIMEOUT", else: "10s")

    @Option(help: "Time a client has to send a request's body, from the end of its head (env CIP_BODY_TIMEOUT).")
    var bodyTimeout: DurationArgument = .environment("CIP_BODY_TIMEOUT", else: "30s")

    @Option(help: "How long a keep-alive connection may wait for its next request (env CIP_IDLE_TIMEOUT).")
    var idleTimeout: DurationArgument = .environment("CIP_IDLE_TIMEOUT", else: "75s")

    @Option(help: "Open connections at most; lowered to fit the open-file limit (env CIP_MAX_CONNECTIONS).")
    var maxConnections: Int = Environment.value("CIP_MAX_CONNECTIONS").flatMap(Int.init) ?? 10_000

    @Option(
        help: "On SIGTERM, how long requests in flight may take before they are cut off (env CIP_SHUTDOWN_TIMEOUT).")
    var shutdownTimeout: DurationArgument = .environment("CIP_SHUTDOWN_TIMEOUT", else: "10s")

    @Option(
        help:
            "PostgreSQL: how long one database operation may run on its connection (an export: wait for its next row) before the request is answered 503 (env CIP_STATEMENT_TIMEOUT)."
    )
    var statementTimeout: DurationArgument = .environment("CIP_STATEMENT_TIMEOUT", else: "10s")

    @Option(
        help: "Open change streams per token on this node; one more is answered 429 (env CIP_MAX_STREAMS_PER_TOKEN).")
    var maxStreamsPerToken: Int = Environment.value("CIP_MAX_STREAMS_PER_TOKEN").flatMap(Int.init) ?? 20

    @OptionGroup var webhookOptions: WebhookOptions

    @Option(
        help:
            "Webhooks: the first retry's delay after a failed delivery; each later one doubles, up to 30m (env CIP_WEBHOOK_FIRST_RETRY)."
    )
    var webhookFirstRetry: DurationArgument = .environment("CIP_WEBHOOK_FIRST_RETRY", else: "5s")

    @Option(help: "Webhooks: a webhook failing for this long is disabled (env CIP_WEBHOOK_RETRY_LIMIT).")
    var webhookRetryLimit: DurationArgument = .environment("CIP_WEBHOOK_RETRY_LIMIT", else: "24h")

    private func webhookSettings() throws -> WebhookSettings {
        // A key file that exists but holds no key is an error at start; one that does not exist yet
        // is looked for again while webhooks wait for it.
        _ = try webhookOptions.sealingKey(for: database, create: false)
        let options = webhookOptions
        let database = database
        var settings = WebhookSettings(
            policy: webhookOptions.policy, sealingKey: { try? options.sealingKey(for: database, create: false) })
        settings.firstRetryDelay = webhookFirstRetry.duration
        settings.maxRetryDelay = max(settings.maxRetryDelay, webhookFirstRetry.duration)
        settings.retryLimit = webhookRetryLimit.duration
        return settings
    }

    func validate() throws {
        guard maxStreamsPerToken > 0 else { throw ValidationError("--max-streams-per-token must be positive") }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be positive") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard maxBodyBytes > 0 else { throw ValidationError("--max-body-bytes must be positive") }
        if let effectiveRateLimit, effectiveRateLimit <= 0 { throw ValidationError("--rate-limit must be positive") }
        guard Logger.Level(rawValue: effectiveLogLevel) != nil else {
            throw ValidationError("--log-level is not a log level")
        }
        guard demoRate > 0, demoRate <= 1000 else { throw ValidationError("--demo-rate must be between 0 and 1000") }
        if demo && port == 0 { throw ValidationError("--demo needs a fixed --port") }
        guard effectiveChangeRetention >= callExpiry.duration else {
            throw ValidationError("--change-retention must be at least --call-expiry")
        }
    }

    func run() async throws {
        var logger = Logger(label: "cip")
        logger.logLevel = Logger.Level(rawValue: effectiveLogLevel) ?? .info
        let fileLimit = FileLimit.raiseSoftToHard()
        let connectionCap = FileLimit.connectionCap(requested: maxConnections, softLimit: fileLimit)
        if connectionCap < maxConnections {
            logger.notice(
                "connections capped by the open-file limit",
                metadata: ["max_connections": "\(connectionCap)", "file_limit": "\(fileLimit ?? 0)"])
        }
        let limits = ConnectionLimits(
            headerTimeout: headerTimeout.duration, bodyTimeout: bodyTimeout.duration, idleTimeout: idleTimeout.duration,
            maxConnections: connectionCap, maxBodyBytes: maxBodyBytes)
        let configuration = ServeConfiguration(
            host: host, port: port, database: database, logLevel: logger.logLevel,
            demoCallsPerSecond: demo ? demoRate : nil,
            settings: APISettings(
                maxBodyBytes: maxBodyBytes, rateLimit: effectiveRateLimit,
                streams: StreamLimits(maxStreamsPerToken: maxStreamsPerToken)),
            limits: limits,
            retention: RetentionSettings(
                callExpiry: callExpiry.duration, completedRetention: retention.duration,
                changeRetention: effectiveChangeRetention, interval: maintenanceInterval.duration),
            webhooks: try webhookSettings())
        do {
            let stores = try await database.servingStore(
                logger: logger, statementDeadline: statementTimeout.duration, memoryReads: postgresMemoryReads)
            let (app, stopFirst) = try await buildApplication(configuration, stores: stores, logger: logger)
            // A group shuts its services down last first: those listed after the app stop before it.
            var group = ServiceGroupConfiguration(
                services: [
                    .init(service: app),
                    .init(service: ShutdownWatchdog(limit: shutdownTimeout.duration + .seconds(5), logger: logger)),
                    .init(service: MemoryReturn(interval: .seconds(10))),
                ] + stopFirst.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            // Past this, requests still in flight (a stalled upload, a hung query) are cancelled.
            group.maximumGracefulShutdownDuration = shutdownTimeout.duration
            try await ServiceGroup(configuration: group).run()
        }
    }
}
