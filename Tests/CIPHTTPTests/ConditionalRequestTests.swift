import CIPDomain
import CIPTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// SPEC 2.7: versions, ETags, `If-Match` on updates and `If-None-Match` on lists.
@Suite("Conditional requests (SPEC 2.7)")
struct ConditionalRequestTests {
    static let disposition = #"{"call_in_progress":{"custom_data":[{"name":"Call Disposition","value":"SALE"}]}}"#

    @Test(arguments: StoreBackend.available) func ifMatchAppliesOnlyToTheVersionItNames(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let token = api.world.tokens.networkA
            try await api.bridge("IFM-1")
            let path = "\(base)/calls_in_progress.json?\(api.networkA)&transaction_id=IFM-1"
            let first = try await api.request(.put, path, token: token, body: Self.disposition)
            #expect(first.status == 200 && first.headers[.eTag] == #""IFM-1.2""#)

            // A stale ETag: 412 with the current one, and nothing changes.
            let stale = try await api.request(
                .put, path, token: token, body: #"{"call_in_progress":{"external_unique_id":"late"}}"#,
                headers: [.ifMatch: #""IFM-1.1""#])
            #expect(stale.status == 412)
            #expect(stale.json == .object(["error": .string("PreconditionFailed")]))
            #expect(stale.headers[.eTag] == #""IFM-1.2""#)
            let unchanged = try await api.find("\(api.networkA)&transaction_id=IFM-1", token: token).calls.first
            #expect(unchanged?["external_unique_id"] == .null && unchanged?["version"] == .integer(2))

            // The current one, alone or in a list; `*`; a weak tag never matches.
            let current = try await api.request(
                .put, path, token: token, body: #"{"call_in_progress":{"external_unique_id":"crm-1"}}"#,
                headers: [.ifMatch: #""other.9", "IFM-1.2""#])
            #expect(current.status == 200 && current.headers[.eTag] == #""IFM-1.3""#)
            let any = try await api.request(.post, path, token: token, body: Self.disposition, headers: [.ifMatch: "*"])
            #expect(any.status == 200 && any.headers[.eTag] == #""IFM-1.3""#, "a no-op keeps the version")
            let weak = try await api.request(
                .put, path, token: token, body: Self.disposition, headers: [.ifMatch: #"W/"IFM-1.3""#])
            #expect(weak.status == 412)

            // 404 before 412; 412 even where the write would be 409; 401 and 403 before either.
            let missing = "\(base)/calls_in_progress.json?\(api.networkA)&transaction_id=NOPE"
            #expect(
                try await api.request(.put, missing, token: token, body: Self.disposition, headers: [.ifMatch: "*"])
                    .status == 404)
            try await api.bridge("IFM-2")
            let taken = try await api.request(
                .put, "\(base)/calls_in_progress.json?\(api.networkA)&transaction_id=IFM-2", token: token,
                body: #"{"call_in_progress":{"external_unique_id":"crm-1"}}"#, headers: [.ifMatch: #""IFM-2.7""#])
            #expect(taken.status == 412)
            #expect(
                try await api.request(
                    .put, path, token: api.world.tokens.revoked, body: Self.disposition,
                    headers: [.ifMatch: #""IFM-1.1""#]
                ).status == 401)
            #expect(
                try await api.request(
                    .put, "\(base)/calls_in_progress.json?\(api.networkA)", token: token, body: Self.disposition,
                    headers: [.ifMatch: #""IFM-1.1""#]
                ).status == 403)
        }
    }

    /// Twenty updates sent together with the same ETag: exactly one applies.
    @Test(arguments: StoreBackend.available) func concurrentIfMatchUpdatesHaveOneWinner(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend, setup: .live) { (api: APITester) async throws in
            try await api.bridge("RACE-1")
            let path = "\(base)/calls_in_progress.json?\(api.networkA)&transaction_id=RACE-1"
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await api.request(
                            .put, path, token: api.world.tokens.networkA,
                            body:
                                #"{"call_in_progress":{"custom_data":[{"name":"Call Disposition","value":"v\#(index)"}]}}"#,
                            headers: [.ifMatch: #""RACE-1.1""#]
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1)
            #expect(statuses.filter { $0 == 412 }.count == 19)
            let call = try await api.find("\(api.networkA)&transaction_id=RACE-1", token: api.world.tokens.networkA)
                .calls
            #expect(call.first?["version"] == .integer(2))
        }
    }

    @Test(arguments: StoreBackend.available) func listsCarryAnETagAndAnswer304WhileUnchanged(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let token = api.world.tokens.networkA
            try await api.bridge("LIST-1")
            try await api.bridge("LIST-2", at: "2022-12-10T13:50:00.000Z")
            let list = "\(base)/calls_in_progress/current_calls.json?\(api.networkA)"
            let first = try await api.request(.get, list, token: token)
            let etag = try #require(first.headers[.eTag])
            #expect(
                try await api.request(.get, list, token: token).headers[.eTag] == etag, "the same list, the same tag")
            for header in [etag, "W/\(etag)", #""x", \#(etag)"#, "*"] {
                let again = try await api.request(.get, list, token: token, headers: [.ifNoneMatch: header])
                #expect(again.status == 304 && again.text.isEmpty && again.headers[.eTag] == etag, "\(header)")
            }
            // Every kind of change gives another tag: a new version, a call bridged, a call ended.
            var tags = [etag]
            let changes: [@Sendable () async throws -> Void] = [
                { _ = try await api.update("\(api.networkA)&transaction_id=LIST-1", Self.disposition, token: token) },
                { try await api.bridge("LIST-3") },
                { try await api.end("LIST-2") },
            ]
            for change in changes {
                try await change()
                let reply = try await api.request(.get, list, token: token, headers: [.ifNoneMatch: tags.last!])
                #expect(reply.status == 200)
                let tag = try #require(reply.headers[.eTag])
                #expect(!tags.contains(tag))
                tags.append(tag)
            }
            // A filtered list has its own tag; a change to a call it does not list leaves it alone.
            let one = "\(list)&transaction_id=LIST-1"
            let oneTag = try #require(try await api.request(.get, one, token: token).headers[.eTag])
            try await api.bridge("LIST-4")
            #expect(try await api.request(.get, one, token: token, headers: [.ifNoneMatch: oneTag]).status == 304)
            // Checks before the request itself still come first, for a poller answered 304 before too.
            #expect(
                try await api.request(.get, list, token: api.world.tokens.revoked, headers: [.ifNoneMatch: "*"]).status
                    == 401)
            let poller = TokenGenerator.newToken()
            let record = try await api.world.store.createToken(
                hash: TokenHash(of: poller), kind: .organization,
                organization: OrganizationRef(type: .network, id: api.world.networkA.id), scope: .read,
                description: nil, createdAt: .now())
            let tag = try #require(try await api.request(.get, list, token: poller).headers[.eTag])
            #expect(try await api.request(.get, list, token: poller, headers: [.ifNoneMatch: tag]).status == 304)
            #expect(try await api.request(.get, list, token: poller, headers: [.ifNoneMatch: tag]).status == 304)
            _ = try await api.world.store.revokeToken(id: record.id)
            try await Task.sleep(for: .milliseconds(600))  // past the token cache's age
            #expect(try await api.request(.get, list, token: poller, headers: [.ifNoneMatch: tag]).status == 401)
        }
    }
}
