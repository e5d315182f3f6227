import ArgumentParser
import CIPSimulator
import Foundation
import Logging
import ServiceLifecycle

/// `cip simulate`: live-looking telephony traffic against a running server.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive a running server's telephony feed with simulated live calls.",
        discussion: """
            Calls carry custom data in the fields utm_source, utm_campaign, line_label (short text), \
            ivr_selection (category: sales, support, billing) and Qualified (signal); the network must \
            define them (serve --demo does), or pass --no-custom-data.
            """)

    @Option(help: "The server's base URL.") var url: String
    @Option(help: "A telephony token.") var token: String
    @Option(help: "The network the calls belong to.") var network: Int64 = 1
    @Option(help: "An advertiser of that network to route calls to; repeat for more.") var advertiser: [Int64] = []
    @Option(help: "New calls per second (Poisson arrivals).") var rate: Double = 5
    @Option(help: "How long to run (90s, 15m, 1h); until Ctrl-C when not set.") var duration: DurationArgument?
    @Option(help: "Median call length (log-normal).") var medianCallLength: DurationArgument = .init(
        seconds: 180, description: "3m")
    @Option(help: "σ of the log-normal call lengths; larger gives a longer tail.") var callLengthSigma: Double = 0.9
    @Flag(help: "Send no custom data.") var noCustomData = false
    @Flag(help: "Start empty instead of with the calls already in progress at this rate.") var noWarmStart = false

    func validate() throws {
        guard URL(string: url)?.scheme?.hasPrefix("http") == true else {
            throw ValidationError("--url must be an http URL")
        }
        guard rate > 0, rate <= 10_000 else { throw ValidationError("--rate must be between 0 and 10000") }
        guard callLengthSigma > 0, callLengthSigma <= 3 else {
            throw ValidationError("--call-length-sigma must be in (0, 3]")
        }
        guard network > 0 else { throw ValidationError("--network must be a positive integer") }
    }

    func run() async throws {
        var logger = Logger(label: "cip.simulate")
        logger.logLevel = .warning
        let settings = SimulationSettings(
            callsPerSecond: rate, duration: duration?.duration,
            medianCallSeconds: Double(medianCallLength.duration.components.seconds), callLengthSigma: callLengthSigma,
            networkID: network, advertiserIDs: advertiser, sendsCustomData: !noCustomData, warmStart: !noWarmStart)
        let intro = String(
            format: "simulating %.1f calls/s, mean call %.0f s: about %.0f calls in progress\n", rate,
            settings.meanCallSeconds, settings.expectedLiveCalls)
        StandardOutput.write(intro)
        let simulator = Simulator(
            url: URL(string: url)!, token: token, settings: settings, logger: logger,
            onTerminal: isatty(STDOUT_FILENO) == 1,
            write: { text in StandardOutput.write(text) })
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: simulator, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
