import CIPDomain

/// How a token is stored, read by column name on both backends.
enum TokenColumns {
    static let names = "id, hash, kind, organization_type, organization_id, scope, description, created_at, revoked_at"

    static func decode(_ row: some StoredRow) throws -> TokenRecord {
        let kindText = try row.requiredText("kind")
        guard let kind = TokenKind(rawValue: kindText) else { throw StoredRowError.invalid("kind", kindText) }
        let scopeText = try row.requiredText("scope")
        guard let scope = TokenScope(rawValue: scopeText) else { throw StoredRowError.invalid("scope", scopeText) }
        var organization: OrganizationRef?
        if let typeText = try row.text("organization_type") {
            guard let type = OrganizationType(rawValue: typeText) else {
                throw StoredRowError.invalid("organization_type", typeText)
            }
            organization = OrganizationRef(type: type, id: try row.requiredInteger("organization_id"))
        }
        return TokenRecord(
            id: try row.requiredInteger("id"), hash: TokenHash(hex: try row.requiredText("hash")), kind: kind,
            organization: organization, scope: scope, description: try row.text("description"),
            createdAt: Timestamp(milliseconds: try row.requiredInteger("created_at")),
            revoked: try row.integer("revoked_at") != nil)
    }
}
