import Synchronization

/// How far each node has applied the change log, as the nodes announce it (`NOTIFY cip_applied`,
/// `ReadLease`): what a write waits for before it is acknowledged, while they hold read leases.
final class PeerProgress: Sendable {
    private let nodes = Mutex<[String: SequenceWaiters]>([:])
    /// Nodes get a new id at each start; past this many, the ones no write waits for are forgotten.
    private static let maxNodes = 1000

    /// The node's announced progress, 0 until it announces any.
    func progress(of node: String) -> SequenceWaiters {
        nodes.withLock { nodes in
            if let known = nodes[node] { return known }
            if nodes.count >= Self.maxNodes { nodes.removeAll() }
            let made = SequenceWaiters()
            nodes[node] = made
            return made
        }
    }

    /// Takes an announcement, `"<node> <sequence>"`; anything else is ignored.
    func heard(_ payload: String) {
        let parts = payload.split(separator: " ")
        guard parts.count == 2, let sequence = Int64(parts[1]) else { return }
        progress(of: String(parts[0])).advance(to: sequence)
    }
}

/// What a numbering round found once it had numbered: the log's head and the nodes that held read
/// leases then, each with the time its lease had left (on the database's clock).
struct LeaseCheck: Sendable {
    struct Holder: Sendable {
        let node: String
        let remaining: Duration
    }

    let head: Int64
    let holders: [Holder]
    /// When the answer arrived here: each lease ends no later than this plus its `remaining`.
    let checkedAt: ContinuousClock.Instant
}
