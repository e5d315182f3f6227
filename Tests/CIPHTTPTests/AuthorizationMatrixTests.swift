import CIPDomain
import CIPTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

/// Every route × every kind of token × every relation between the token's organization and the
/// one asked for × every owner of the call asked for (issue 9, item 13). Each answer is checked
/// against SPEC 2.1's rule written out here; and wherever a caller may not see something, what
/// exists and what does not are answered byte for byte alike.
@Suite("Authorization matrix (SPEC 2.1)")
struct AuthorizationMatrixTests {
    struct Caller {
        let name: String
        let token: String?
        /// The organization it acts for and its scope; nil for tokens that act for none.
        let owner: OrganizationRef?
        let write: Bool
        let telephony: Bool
    }

    struct Target {
        let name: String
        let ref: OrganizationRef
        /// Its network, nil when it does not exist.
        let network: Int64?
    }

    struct Call {
        let id: String
        let network: Int64?
        let advertiser: Int64?
    }

    @Test(arguments: StoreBackend.available) func everyAnswerFollowsTheRuleAndRevealsNothing(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let world = api.world
            let netA = world.networkA.id
            let netB = world.networkB.id
            let a1 = world.advertiserA1.id
            let a2 = world.advertiserA2.id
            let b1 = world.advertiserB1.id
            let missing: Int64 = 987_654
            let callers = [
                Caller(
                    name: "network write", token: world.tokens.networkA, owner: .init(type: .network, id: netA),
                    write: true, telephony: false),
                Caller(
                    name: "network read", token: world.tokens.networkARead, owner: .init(type: .network, id: netA),
                    write: false, telephony: false),
                Caller(
                    name: "advertiser write", token: world.tokens.advertiserA1, owner: .init(type: .advertiser, id: a1),
                    write: true, telephony: false),
                Caller(
                    name: "advertiser read", token: world.tokens.advertiserA1Read,
                    owner: .init(type: .advertiser, id: a1), write: false, telephony: false),
                Caller(
                    name: "other network", token: world.tokens.networkB, owner: .init(type: .network, id: netB),
                    write: true, telephony: false),
                Caller(name: "telephony", token: world.tokens.telephony, owner: nil, write: false, telephony: true),
                Caller(name: "revoked", token: world.tokens.revoked, owner: nil, write: false, telephony: false),
                Caller(name: "garbage", token: "cip_not_a_token_at_all", owner: nil, write: false, telephony: false),
                Caller(name: "none", token: nil, owner: nil, write: false, telephony: false),
            ]
            // Relations to the callers above: own, parent (A1's network), child and sibling (A1, A2
            // under network A), another network and its advertiser, and ids that do not exist.
            let targets = [
                Target(name: "network A", ref: .init(type: .network, id: netA), network: netA),
                Target(name: "advertiser A1", ref: .init(type: .advertiser, id: a1), network: netA),
                Target(name: "advertiser A2", ref: .init(type: .advertiser, id: a2), network: netA),
                Target(name: "network B", ref: .init(type: .network, id: netB), network: netB),
                Target(name: "advertiser B1", ref: .init(type: .advertiser, id: b1), network: netB),
                Target(name: "no network", ref: .init(type: .network, id: missing), network: nil),
                Target(name: "no advertiser", ref: .init(type: .advertiser, id: missing), network: nil),
            ]
            let calls = [
                Call(id: "CALL-A1", network: netA, advertiser: a1), Call(id: "CALL-A2", network: netA, advertiser: a2),
                Call(id: "CALL-A", network: netA, advertiser: nil), Call(id: "CALL-B1", network: netB, advertiser: b1),
                Call(id: "CALL-NONE", network: nil, advertiser: nil),
            ]
            for call in calls {
                guard let network = call.network else { continue }
                let advertiser = call.advertiser.map { #","advertiser_id":\#($0)"# } ?? ""
                let reply = try await api.events(
                    #"{"event":"call_bridged","transaction_id":"\#(call.id)","network_id":\#(network)\#(advertiser),"occurred_at":"2022-12-10T13:00:00.000Z","calling_phone_number":"+15309999999","destination_phone_number":"+18555595599"}"#
                )
                #expect(reply.statuses == ["applied"])
            }

            func mayAct(_ caller: Caller, _ target: Target) -> Bool {
                guard let owner = caller.owner, let network = target.network else { return false }
                switch owner.type {
                case .network: return network == owner.id
                case .advertiser: return target.ref == owner
                }
            }
            func sees(_ target: Target, _ call: Call) -> Bool {
                guard call.network != nil else { return false }
                return target.ref.type == .network ? call.network == target.ref.id : call.advertiser == target.ref.id
            }
            func org(_ target: Target) -> String { "id=\(target.ref.id)&organization_type=\(target.ref.type.rawValue)" }

            var checked = 0
            for caller in callers {
                // Answers that must not differ: per request shape, every target the caller may not act for.
                var refused: [String: Reply] = [:]
                for target in targets {
                    let allowed = mayAct(caller, target)
                    // The whole list.
                    let all = try await api.find(org(target), token: caller.token)
                    if allowed {
                        #expect(all.status == 200, "\(caller.name) lists \(target.name)")
                        let expected = Set(calls.filter { sees(target, $0) }.map(\.id))
                        #expect(
                            Set(all.calls.compactMap { $0["transaction_id"]?.stringValue }) == expected,
                            "\(caller.name) lists \(target.name)")
                    } else {
                        Self.expectSame(all, as: "list", in: &refused, "\(caller.name) lists \(target.name)")
                    }
                    checked += 1
                    for call in calls {
                        let label = "\(caller.name) on \(target.name), call \(call.id)"
                        let found = try await api.find(org(target) + "&transaction_id=\(call.id)", token: caller.token)
                        let update = #"{"call_in_progress":{"custom_data":[{"name":"Call Disposition","value":"x"}]}}"#
                        let put = try await api.update(
                            org(target) + "&transaction_id=\(call.id)", update, token: caller.token)
                        let post = try await api.update(
                            org(target) + "&transaction_id=\(call.id)", update, token: caller.token, method: .post)
                        checked += 3
                        if allowed {
                            #expect(found.status == 200, "GET \(label)")
                            #expect(found.calls.count == (sees(target, call) ? 1 : 0), "GET \(label)")
                            for reply in [put, post] {
                                let expected = !caller.write ? 401 : sees(target, call) ? 200 : 404
                                #expect(reply.status == expected, "PUT \(label)")
                            }
                            if !sees(target, call) {
                                // Another organization's call and no call at all: the same answer.
                                Self.expectSame(found, as: "found-unseen \(target.name)", in: &refused, "GET \(label)")
                                Self.expectSame(put, as: "put-unseen \(target.name)", in: &refused, "PUT \(label)")
                            }
                        } else {
                            Self.expectSame(found, as: "found \(call.id)", in: &refused, "GET \(label)")
                            Self.expectSame(put, as: "put \(call.id)", in: &refused, "PUT \(label)")
                            Self.expectSame(post, as: "put \(call.id)", in: &refused, "POST \(label)")
                        }
                    }
                }
                // The telephony feed takes telephony tokens only.
                let feed = try await api.events(
                    #"{"event":"call_updated","transaction_id":"CALL-A1","network_id":\#(netA),"occurred_at":"2022-12-10T13:05:00.000Z","call_status":"on_hold"}"#,
                    tokenOverride: caller.token)
                #expect(feed.status == (caller.telephony ? 200 : 401), "\(caller.name) feeds events")
                checked += 1
            }
            #expect(checked == callers.count * (targets.count * (1 + calls.count * 3) + 1))
        }
    }

    /// The first reply of a shape is the reference; every later one must equal it byte for byte.
    static func expectSame(_ reply: Reply, as shape: String, in seen: inout [String: Reply], _ label: String) {
        guard let first = seen[shape] else {
            seen[shape] = reply
            return
        }
        #expect(reply.status == first.status, "\(label)")
        #expect(reply.text == first.text, "\(label)")
        #expect(comparable(reply.headers) == comparable(first.headers), "\(label)")
    }

    static func comparable(_ headers: HTTPFields) -> [String] {
        headers.filter { $0.name != .date }.map { "\($0.name): \($0.value)" }.sorted()
    }
}
