import CIPDomain
import Synchronization

/// The query a token's list request (its raw query string) was checked and authorized as, so that a
/// poller's next request with `If-None-Match` skips parsing and authorizing it again (SPEC 2.7: a
/// client polling every second pays almost nothing while nothing changes). Safe to reuse: the token is
/// authenticated on every request (revocation still ends it), a token's organization and scope never
/// change, and organizations are never removed.
final class ListQueryMemo: Sendable {
    private struct Key: Hashable {
        let tokenID: Int64
        let rawQuery: String
    }
    private let queries = Mutex<[Key: CallQuery]>([:])
    private static let capacity = 4_096

    func query(tokenID: Int64, rawQuery: String) -> CallQuery? {
        queries.withLock { $0[Key(tokenID: tokenID, rawQuery: rawQuery)] }
    }

    func remember(_ query: CallQuery, tokenID: Int64, rawQuery: String) {
        queries.withLock { queries in
            if queries.count >= Self.capacity { queries.removeAll(keepingCapacity: true) }
            queries[Key(tokenID: tokenID, rawQuery: rawQuery)] = query
        }
    }
}
