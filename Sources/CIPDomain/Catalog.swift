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

extension Catalog {
    /// Whether the network has a field `name` that takes `value` as far as its allowed values go:
    /// when not, the field or the value may be newer than this snapshot, and a fresher one can tell.
    public func knowsField(_ name: String, value: JSONValue?, inNetwork network: Int64) -> Bool {
        guard let field = fields(ofNetwork: network)[name] else { return false }
        guard field.dataType == .category, !field.allowedValues.isEmpty, let text = value?.scalarText else {
            return true
        }
        return field.allowedValues.contains(text)
    }
}
