import CIPDomain
import CIPTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// SPEC 2.8: `limit` and a keyset `cursor`.
@Suite("Paging (SPEC 2.8)")
struct PagingTests {
    /// Bridges `count` calls of network A in batches of 1,000: ten share each transfer time, so ties
    /// are ordered by transaction id across page boundaries too.
    static func bridgeMany(_ api: APITester, _ count: Int, prefix: String) async throws {
        var index = 0
        while index < count {
            let batch = (index..<min(index + 1000, count)).map { n in
                let second = String(format: "%02d", (n / 10) % 60)
                let minute = String(format: "%02d", (n / 600) % 60)
                return
                    #"{"event":"call_bridged","transaction_id":"\#(prefix)\#(String(format: "%05d", n))","network_id":\#(api.world.networkA.id),"occurred_at":"2022-12-10T13:\#(minute):\#(second).000Z","calling_phone_number":"530-999-9999","destination_phone_number":"855-559-5599"}"#
            }
            let reply = try await api.events(#"{"events":[\#(batch.joined(separator: ","))]}"#)
            #expect(reply.status == 200 && reply.statuses.allSatisfy { $0 == "applied" })
            index += 1000
        }
    }

    static func pages(_ api: APITester, query: String, limit: Int) async throws -> [[String]] {
        var pages: [[String]] = []
        var cursor: String?
        repeat {
            let cursorPart = cursor.map { "&cursor=\($0)" } ?? ""
            let reply = try await api.find("\(query)&limit=\(limit)\(cursorPart)", token: api.world.tokens.networkA)
            #expect(reply.status == 200)
            pages.append(reply.calls.compactMap { $0["transaction_id"]?.stringValue })
            cursor = reply.json["next_cursor"]?.stringValue
        } while cursor != nil && pages.count < 100
        return pages
    }

    @Test(arguments: StoreBackend.available) func pagingGivesEachCallOnceInOrder(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await Self.bridgeMany(api, 2500, prefix: "P")
            let whole = try await api.find(api.networkA, token: api.world.tokens.networkA)
            let all = whole.calls.compactMap { $0["transaction_id"]?.stringValue }
            #expect(all.count == 2500 && whole.json["next_cursor"] == nil, "without limit, the whole list")
            let pages = try await Self.pages(api, query: api.networkA, limit: 1000)
            #expect(pages.map(\.count) == [1000, 1000, 500])
            #expect(pages.flatMap { $0 } == all, "each call once, in SPEC 2.2's order")
        }
    }

    @Test(arguments: StoreBackend.available) func cursorsAreKeysetsBoundToTheirList(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let token = api.world.tokens.networkA
            try await Self.bridgeMany(api, 30, prefix: "K")
            // A full last page has no next cursor.
            #expect(try await Self.pages(api, query: api.networkA, limit: 10).map(\.count) == [10, 10, 10])
            #expect(try await Self.pages(api, query: api.networkA, limit: 30).map(\.count) == [30])

            let first = try await api.find("\(api.networkA)&limit=10", token: token)
            let cursor = try #require(first.json["next_cursor"]?.stringValue)
            let firstTag = first.headers[.eTag]
            // Between pages: a call of the next page ends, and a call bridged ahead of the cursor appears
            // on no later page.
            let nextIDs = try await api.find("\(api.networkA)&limit=10&cursor=\(cursor)", token: token).calls.compactMap
            {
                $0["transaction_id"]?.stringValue
            }
            try await api.end(nextIDs[0])
            try await api.bridge("K-NEWEST", at: "2022-12-10T14:30:00.000Z")
            let second = try await api.find("\(api.networkA)&limit=10&cursor=\(cursor)", token: token)
            let secondIDs = second.calls.compactMap { $0["transaction_id"]?.stringValue }
            #expect(secondIDs == Array(nextIDs.dropFirst()) + [secondIDs.last!] && !secondIDs.contains("K-NEWEST"))
            #expect(second.headers[.eTag] != firstTag)

            // Malformed, another organization's, other filters': 403 naming cursor.
            let otherAdvertiser = try await api.find("\(api.advertiserA1)&limit=1", token: token)
            #expect(otherAdvertiser.status == 200)
            for bad in ["nonsense", "%%%", String(repeating: "A", count: 300), "MTIzLmFiYy5Y"] {
                let reply = try await api.find("\(api.networkA)&limit=10&cursor=\(bad)", token: token)
                #expect(reply.status == 403 && reply.errors("cursor").count == 1, "\(bad)")
            }
            let foreign = try await api.find("\(api.advertiserA1)&limit=10&cursor=\(cursor)", token: token)
            #expect(foreign.status == 403 && foreign.errors("cursor").count == 1)
            let filtered = try await api.find(
                "\(api.networkA)&limit=10&cursor=\(cursor)&calling_phone_number=5309999999&destination_phone_number=8555595599",
                token: token)
            #expect(filtered.status == 403 && filtered.errors("cursor").count == 1)
            for limit in ["0", "1001", "ten", "-1"] {
                let reply = try await api.find("\(api.networkA)&limit=\(limit)", token: token)
                #expect(
                    reply.status == 403 && reply.errors("limit") == ["must be an integer from 1 to 1000"], "\(limit)")
            }
            // What a cursor holds: a transfer time, a fingerprint of the list, a transaction id of it.
            let decoded = String(decoding: Data(base64Encoded: Self.padded(cursor)) ?? Data(), as: UTF8.self)
            #expect(decoded.hasSuffix(".\(try #require(first.calls.last?["transaction_id"]?.stringValue))"))
        }
    }

    static func padded(_ base64url: String) -> String {
        let text = base64url.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        return text + String(repeating: "=", count: (4 - text.count % 4) % 4)
    }
}
