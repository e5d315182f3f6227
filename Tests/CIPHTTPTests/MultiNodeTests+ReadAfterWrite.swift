import CIPDomain
import CIPTestSupport
import Foundation
import Testing

extension MultiNodeTests {
    /// Issue 16: each node answers reads from memory, and SPEC 2.4's "later GETs show the new values
    /// at once" still holds across nodes: a client alternating between two nodes reads, through the
    /// other node, what it has just written through one — every time, not most times.
    @Test func aPutThroughOneNodeIsReadThroughTheOtherTenThousandTimesInARow() async throws {
        let cluster = try await Self.startCluster(arguments: ["--postgres-memory-reads"])
        defer { cluster.stop() }
        #expect(try await cluster.bridge("READ-AFTER-WRITE", via: 0) == "applied")
        let rounds = 10_000
        var stale: [String] = []
        for round in 0..<rounds {
            let (writer, reader) = (round % 2, (round + 1) % 2)
            let value = "v\(round)"
            let status = try await cluster.update(
                "READ-AFTER-WRITE", via: writer,
                #"{"call_in_progress":{"custom_data":[{"name":"f0","value":"\#(value)"}]}}"#)
            guard status == 200 else {
                Issue.record("round \(round): PUT through node \(writer) answered \(status)")
                return
            }
            let found = try await cluster.find("&transaction_id=READ-AFTER-WRITE", via: reader)
            let read = found.first?["custom_data"]?["f0"]?["value"]?.stringValue
            // Version 1 at the bridge, one more with each update.
            let version = found.first?["version"]
            if read != value || version != .integer(Int64(round) + 2) {
                stale.append(
                    "round \(round): wrote \(value) through node \(writer), read \(read ?? "nothing") (version \(String(describing: version))) through node \(reader)"
                )
            }
        }
        #expect(stale.count == 0, "\(stale.count) stale reads of \(rounds): \(stale.prefix(5))")
    }
}
