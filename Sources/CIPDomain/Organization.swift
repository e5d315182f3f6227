/// A network: the platform's direct customer, owner of advertisers, fields and calls.
public struct Network: Sendable, Hashable {
    public let id: Int64
    public let name: String
    /// ISO 3166 code whose national number formats the phone normalizer accepts.
    public let country: String

    public init(id: Int64, name: String, country: String) {
        self.id = id
        self.name = name
        self.country = country
    }
}

/// An advertiser, which always belongs to exactly one network.
public struct Advertiser: Sendable, Hashable {
    public let id: Int64
    public let networkID: Int64
    public let name: String
    public let idFromNetwork: String?

    public init(id: Int64, networkID: Int64, name: String, idFromNetwork: String?) {
        self.id = id
        self.networkID = networkID
        self.name = name
        self.idFromNetwork = idFromNetwork
    }
}

/// An organization resolved against the catalog: which network it lives in decides what it may see.
public struct ResolvedOrganization: Sendable, Hashable {
    public let ref: OrganizationRef
    public let networkID: Int64

    public init(ref: OrganizationRef, networkID: Int64) {
        self.ref = ref
        self.networkID = networkID
    }
}

extension Advertiser {
    /// The advertiser with a new name and/or id from its network; nil leaves a part as it is.
    public func updated(name: String?, idFromNetwork: String?) -> Advertiser {
        Advertiser(
            id: id, networkID: networkID, name: name ?? self.name, idFromNetwork: idFromNetwork ?? self.idFromNetwork)
    }
}
