import AsyncHTTPClient
import Foundation

/// A client that keeps a `CallsMirror` of an organization's calls in progress from its change
/// stream, and resumes by itself with the last id it applied whenever the connection drops.
public final class StreamFollower: Sendable {
    public let target: StreamTarget
    private let client: HTTPClient

    public init(target: StreamTarget, client: HTTPClient) {
        self.target = target
        self.client = client
    }

    /// What happened, for the caller to show.
    public enum Report: Sendable {
        case connected(resumingAfter: Int64?)
        case applied(CallsMirror.Applied, mirror: CallsMirror)
        case disconnected(String)
    }

    /// Follows the stream until cancelled, or until the server refuses it for good (throws
    /// `StreamRefused`), or the stream breaks its guarantee (throws `CallsMirror.Inconsistency`).
    public func run(
        mirror initial: CallsMirror = CallsMirror(), report: @escaping @Sendable (Report) async -> Void
    ) async throws {
        var mirror = initial
        var pause = Duration.milliseconds(100)
        while !Task.isCancelled {
            let resumeAfter = mirror.awaitingSnapshot ? nil : mirror.lastSequence
            do {
                await report(.connected(resumingAfter: resumeAfter))
                try await readStream(target, lastEventID: resumeAfter, client: client) { event in
                    let applied = try mirror.apply(event)
                    pause = .milliseconds(100)
                    await report(.applied(applied, mirror: mirror))
                }
                await report(.disconnected("the server ended the stream"))
            } catch let refused as StreamRefused where refused.isFinal {
                throw refused
            } catch let inconsistency as CallsMirror.Inconsistency {
                throw inconsistency
            } catch {
                if Task.isCancelled { return }
                await report(.disconnected("\(error)"))
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(5))
        }
    }
}
