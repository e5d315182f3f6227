import CIPDomain
import CIPStore

/// A small world of organizations, fields and tokens in one store.
///
/// Network A (US) has advertisers A1 and A2; network B (GB) has advertiser B1.
public struct Fixture: Sendable {
    public let store: any ServingStore
    public let networkA: Network
    public let networkB: Network
    public let advertiserA1: Advertiser
    public let advertiserA2: Advertiser
    public let advertiserB1: Advertiser
    public let tokens: Tokens

    /// Token texts, one per kind of caller the tests need.
    public struct Tokens: Sendable {
        public let networkA: String
        public let networkARead: String
        public let advertiserA1: String
        public let advertiserA1Read: String
        public let advertiserA2: String
        public let networkB: String
        public let telephony: String
        public let revoked: String
        public let admin: String
    }

    public static func make(on backend: StoreBackend = .sqlite) async throws -> Fixture {
        try await make(in: backend.makeStore())
    }

    /// The world in `store`, which must be migrated and empty.
    public static func make(in store: any ServingStore) async throws -> Fixture {
        let networkA = try await store.createNetwork(name: "Network A", country: "US")
        let networkB = try await store.createNetwork(name: "Network B", country: "GB")
        let a1 = try await store.createAdvertiser(networkID: networkA.id, name: "A1", idFromNetwork: "ext-a1")
        let a2 = try await store.createAdvertiser(networkID: networkA.id, name: "A2", idFromNetwork: nil)
        let b1 = try await store.createAdvertiser(networkID: networkB.id, name: "B1", idFromNetwork: nil)
        _ = try await store.createField(
            networkID: networkA.id, name: "Call Disposition", dataType: .shortText, allowedValues: [])
        _ = try await store.createField(networkID: networkA.id, name: "Qualified", dataType: .signal, allowedValues: [])
        _ = try await store.createField(
            networkID: networkA.id, name: "Stage", dataType: .category, allowedValues: ["New", "Won"])
        _ = try await store.createField(networkID: networkA.id, name: "Notes", dataType: .longText, allowedValues: [])
        _ = try await store.createField(
            networkID: networkA.id, name: "utm_source", dataType: .shortText, allowedValues: [])
        for index in 0..<60 {
            _ = try await store.createField(
                networkID: networkA.id, name: "f\(index)", dataType: .shortText, allowedValues: [])
        }
        _ = try await store.createField(
            networkID: networkB.id, name: "Call Disposition", dataType: .shortText, allowedValues: [])

        func token(_ kind: TokenKind, _ owner: OrganizationRef?, _ scope: TokenScope = .write) async throws -> String {
            let text = TokenGenerator.newToken()
            _ = try await store.createToken(
                hash: TokenHash(of: text), kind: kind, organization: owner, scope: scope, description: nil,
                createdAt: .now())
            return text
        }
        let netA = OrganizationRef(type: .network, id: networkA.id)
        let advA1 = OrganizationRef(type: .advertiser, id: a1.id)
        let revoked = try await token(.organization, netA)
        let revokedID = try await store.token(hash: TokenHash(of: revoked))!.id
        _ = try await store.revokeToken(id: revokedID)
        let tokens = Tokens(
            networkA: try await token(.organization, netA),
            networkARead: try await token(.organization, netA, .read),
            advertiserA1: try await token(.organization, advA1),
            advertiserA1Read: try await token(.organization, advA1, .read),
            advertiserA2: try await token(.organization, OrganizationRef(type: .advertiser, id: a2.id)),
            networkB: try await token(.organization, OrganizationRef(type: .network, id: networkB.id)),
            telephony: try await token(.telephony, nil),
            revoked: revoked,
            admin: try await token(.admin, nil))
        return Fixture(
            store: store, networkA: networkA, networkB: networkB, advertiserA1: a1, advertiserA2: a2,
            advertiserB1: b1, tokens: tokens)
    }

    /// A checked bridged event for network A.
    public func bridged(
        _ transactionID: String, at ms: Int64, advertiser: Advertiser? = nil, calling: String = "+15309999999",
        destination: String = "+18555595599", network: Network? = nil
    ) -> CallEvent {
        CallEvent(
            kind: .bridged, transactionID: transactionID, networkID: (network ?? networkA).id,
            advertiserID: advertiser?.id, occurredAt: Timestamp(milliseconds: ms), callStart: nil,
            callingPhoneNumber: calling, destinationPhoneNumber: destination, status: nil, attributes: [:],
            customData: [])
    }

    public func ended(_ transactionID: String, at ms: Int64, network: Network? = nil) -> CallEvent {
        CallEvent(
            kind: .ended, transactionID: transactionID, networkID: (network ?? networkA).id, advertiserID: nil,
            occurredAt: Timestamp(milliseconds: ms), callStart: nil, callingPhoneNumber: nil,
            destinationPhoneNumber: nil, status: nil, attributes: [:], customData: [])
    }

    public func scope(_ type: OrganizationType, _ id: Int64) -> CallScope {
        let networkID =
            type == .network ? id : [advertiserA1, advertiserA2, advertiserB1].first { $0.id == id }!.networkID
        return CallScope(ResolvedOrganization(ref: OrganizationRef(type: type, id: id), networkID: networkID))
    }
}
