/// What an HTTP method needs of a token's scope.
public enum AccessNeed: Sendable {
    case read
    case write
}

/// SPEC 2.1: who may act for which organization.
public enum AccessPolicy {
    /// Whether `token` may act for `organization` (nil when it does not exist) with `need`.
    ///
    /// A network token acts for its network and every advertiser in it; an advertiser token only for
    /// itself; a telephony token for no organization. A missing organization is refused like a
    /// forbidden one, so answers never reveal what exists.
    public static func allows(
        _ token: TokenRecord, toAct need: AccessNeed, for organization: ResolvedOrganization?
    ) -> Bool {
        guard !token.revoked, token.kind == .organization, let owner = token.organization,
            let organization
        else { return false }
        if need == .write && token.scope != .write { return false }
        switch owner.type {
        case .network:
            return organization.networkID == owner.id
        case .advertiser:
            return organization.ref == owner
        }
    }

    /// Whether `token` may post telephony events.
    public static func allowsTelephony(_ token: TokenRecord) -> Bool {
        !token.revoked && token.kind == .telephony
    }

    /// Whether `token` may use the admin API (SPEC 6.1).
    public static func allowsAdministration(_ token: TokenRecord) -> Bool {
        !token.revoked && token.kind == .admin
    }
}
