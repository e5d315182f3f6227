import CIPDomain
import GRDB

extension SQLiteDatabase: TokenStore {
    public func createToken(
        hash: TokenHash, kind: TokenKind, organization: OrganizationRef?, scope: TokenScope, description: String?,
        createdAt: Timestamp
    ) async throws -> TokenRecord {
        try await write { db in
            if let organization {
                let table = organization.type == .network ? "networks" : "advertisers"
                let exists = try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM \(table) WHERE id = ?", arguments: [organization.id])
                guard exists == true else {
                    throw CatalogError.unknown("\(organization.type.rawValue) \(organization.id)")
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO tokens (hash, kind, organization_type, organization_id, scope, description, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    hash.hex, kind.rawValue, organization?.type.rawValue, organization?.id, scope.rawValue, description,
                    createdAt.milliseconds,
                ])
            return TokenRecord(
                id: db.lastInsertedRowID, hash: hash, kind: kind, organization: organization, scope: scope,
                description: description, createdAt: createdAt, revoked: false)
        }
    }

    public func token(hash: TokenHash) async throws -> TokenRecord? {
        try await read { db in
            let statement = try db.cachedStatement(sql: "SELECT \(TokenColumns.names) FROM tokens WHERE hash = ?")
            return try Row.fetchOne(statement, arguments: [hash.hex]).map(TokenColumns.decode)
        }
    }

    public func listTokens() async throws -> [TokenRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT \(TokenColumns.names) FROM tokens ORDER BY id").map(TokenColumns.decode)
        }
    }

    public func revokedTokens(among ids: [Int64]) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return try await read { db in
            let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
            let valid = try Int64.fetchSet(
                db, sql: "SELECT id FROM tokens WHERE revoked_at IS NULL AND id IN (\(placeholders))",
                arguments: StatementArguments(ids))
            return Set(ids).subtracting(valid)
        }
    }

    public func revokeToken(id: Int64) async throws -> TokenRecord? {
        try await write { db in
            try db.execute(
                sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                arguments: [Timestamp.now().milliseconds, id])
            return try Row.fetchOne(db, sql: "SELECT \(TokenColumns.names) FROM tokens WHERE id = ?", arguments: [id])
                .map(TokenColumns.decode)
        }
    }
}
