/// The two kinds of customer organization: a network, or an advertiser that belongs to one.
public enum OrganizationType: String, Sendable, Hashable, CaseIterable {
    case network
    case advertiser

    /// Reads a query or CLI value; SPEC 2.2 makes it case-insensitive (`Network` works).
    public init?(parsing text: String) {
        self.init(rawValue: text.lowercased())
    }
}

/// A reference to one organization, as named by `id` and `organization_type`.
public struct OrganizationRef: Sendable, Hashable {
    public let type: OrganizationType
    public let id: Int64

    public init(type: OrganizationType, id: Int64) {
        self.type = type
        self.id = id
    }
}
