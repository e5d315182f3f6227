/// The organizations and custom data fields the service knows, as one consistent snapshot.
///
/// Catalog entries are only ever added, never changed or removed, so a snapshot stays true for what
/// it holds; a lookup that misses may only mean the snapshot is older than the entry.
public struct Catalog: Sendable {
    public var networks: [Int64: Network]
    public var advertisers: [Int64: Advertiser]
    /// Network id → field name → field.
    public var fields: [Int64: [String: CustomDataField]]

    public init(
        networks: [Int64: Network] = [:], advertisers: [Int64: Advertiser] = [:],
        fields: [Int64: [String: CustomDataField]] = [:]
    ) {
        self.networks = networks
        self.advertisers = advertisers
        self.fields = fields
    }

    /// The organization with its network, or nil when it does not exist.
    public func resolve(_ ref: OrganizationRef) -> ResolvedOrganization? {
        switch ref.type {
        case .network:
            return networks[ref.id].map { ResolvedOrganization(ref: ref, networkID: $0.id) }
        case .advertiser:
            return advertisers[ref.id].map { ResolvedOrganization(ref: ref, networkID: $0.networkID) }
        }
    }

    public func fields(ofNetwork id: Int64) -> [String: CustomDataField] {
        fields[id] ?? [:]
    }
}
