import CIPDomain
import Testing

@Suite("Access policy (SPEC 2.1)")
struct AccessPolicyTests {
    // Network 1 has advertisers 10 and 11; network 2 has advertiser 20.
    static let network1 = ResolvedOrganization(ref: .init(type: .network, id: 1), networkID: 1)
    static let network2 = ResolvedOrganization(ref: .init(type: .network, id: 2), networkID: 2)
    static let advertiser10 = ResolvedOrganization(ref: .init(type: .advertiser, id: 10), networkID: 1)
    static let advertiser11 = ResolvedOrganization(ref: .init(type: .advertiser, id: 11), networkID: 1)
    static let advertiser20 = ResolvedOrganization(ref: .init(type: .advertiser, id: 20), networkID: 2)

    static func token(
        _ kind: TokenKind, _ owner: OrganizationRef?, _ scope: TokenScope, revoked: Bool = false
    )
        -> TokenRecord
    {
        TokenRecord(
            id: 1, hash: TokenHash(of: "t"), kind: kind, organization: owner, scope: scope, description: nil,
            createdAt: Timestamp(milliseconds: 0), revoked: revoked)
    }

    struct Row: CustomStringConvertible, Sendable {
        let name: String
        let owner: OrganizationRef?
        let kind: TokenKind
        let target: ResolvedOrganization?
        let readAllowed: Bool
        var description: String { name }
    }

    /// Every token kind against every relation: own, parent network, sibling, other network, missing.
    static let rows: [Row] = [
        Row(
            name: "network → itself", owner: .init(type: .network, id: 1), kind: .organization, target: network1,
            readAllowed: true),
        Row(
            name: "network → its advertiser", owner: .init(type: .network, id: 1), kind: .organization,
            target: advertiser10, readAllowed: true),
        Row(
            name: "network → another network", owner: .init(type: .network, id: 1), kind: .organization,
            target: network2, readAllowed: false),
        Row(
            name: "network → another network's advertiser", owner: .init(type: .network, id: 1), kind: .organization,
            target: advertiser20, readAllowed: false),
        Row(
            name: "network → missing organization", owner: .init(type: .network, id: 1), kind: .organization,
            target: nil, readAllowed: false),
        Row(
            name: "advertiser → itself", owner: .init(type: .advertiser, id: 10), kind: .organization,
            target: advertiser10, readAllowed: true),
        Row(
            name: "advertiser → its network", owner: .init(type: .advertiser, id: 10), kind: .organization,
            target: network1, readAllowed: false),
        Row(
            name: "advertiser → sibling advertiser", owner: .init(type: .advertiser, id: 10), kind: .organization,
            target: advertiser11, readAllowed: false),
        Row(
            name: "advertiser → another network", owner: .init(type: .advertiser, id: 10), kind: .organization,
            target: network2, readAllowed: false),
        Row(
            name: "advertiser → another network's advertiser", owner: .init(type: .advertiser, id: 10),
            kind: .organization, target: advertiser20, readAllowed: false),
        Row(
            name: "advertiser → missing organization", owner: .init(type: .advertiser, id: 10), kind: .organization,
            target: nil, readAllowed: false),
        Row(name: "telephony → network", owner: nil, kind: .telephony, target: network1, readAllowed: false),
        Row(name: "telephony → advertiser", owner: nil, kind: .telephony, target: advertiser10, readAllowed: false),
    ]

    @Test(arguments: rows)
    func writeScopeMayReadAndWriteWhereAllowed(_ row: Row) {
        let token = Self.token(row.kind, row.owner, .write)
        #expect(AccessPolicy.allows(token, toAct: .read, for: row.target) == row.readAllowed)
        #expect(AccessPolicy.allows(token, toAct: .write, for: row.target) == row.readAllowed)
    }

    @Test(arguments: rows)
    func readScopeMayOnlyRead(_ row: Row) {
        let token = Self.token(row.kind, row.owner, .read)
        #expect(AccessPolicy.allows(token, toAct: .read, for: row.target) == row.readAllowed)
        #expect(AccessPolicy.allows(token, toAct: .write, for: row.target) == false)
    }

    @Test(arguments: rows)
    func revokedTokensMayDoNothing(_ row: Row) {
        let token = Self.token(row.kind, row.owner, .write, revoked: true)
        #expect(AccessPolicy.allows(token, toAct: .read, for: row.target) == false)
        #expect(AccessPolicy.allowsTelephony(token) == false)
    }

    @Test func onlyTelephonyTokensMayFeedEvents() {
        #expect(AccessPolicy.allowsTelephony(Self.token(.telephony, nil, .write)))
        #expect(!AccessPolicy.allowsTelephony(Self.token(.organization, .init(type: .network, id: 1), .write)))
    }

    @Test func hashesCompareInConstantTimeAndCorrectly() {
        #expect(TokenHash(of: "abc").constantTimeEquals(TokenHash(of: "abc")))
        #expect(!TokenHash(of: "abc").constantTimeEquals(TokenHash(of: "abd")))
        #expect(TokenHash(of: "abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
