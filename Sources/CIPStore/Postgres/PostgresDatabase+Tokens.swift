import CIPDomain
import PostgresNIO

extension PostgresDatabase: TokenStore {
    public func createToken(
        hash: TokenHash, kind: TokenKind, organization: OrganizationRef?, scope: TokenScope, description: String?,
        createdAt: Timestamp
    ) async throws -> TokenRecord {
        try await transaction { connection, logger in
            if let organization {
                let table = organization.type == .network ? "networks" : "advertisers"
                let rows = try await connection.rows(
                    "SELECT 1 FROM \(table) WHERE id = $1", [.integer(organization.id)], logger)
                guard rows.count == 1 else {
                    throw CatalogError.unknown("\(organization.type.rawValue) \(organization.id)")
                }
            }
            let id = try await Self.insertReturningID(
                connection, logger, what: "token",
                """
                INSERT INTO tokens (hash, kind, organization_type, organization_id, scope, description, created_at)
                VALUES (\(hash.hex), \(kind.rawValue), \(organization?.type.rawValue), \(organization?.id),
                    \(scope.rawValue), \(description), \(createdAt.milliseconds))
                RETURNING id
                """)
            return TokenRecord(
                id: id, hash: hash, kind: kind, organization: organization, scope: scope, description: description,
                createdAt: createdAt, revoked: false)
        }
    }

    public func token(hash: TokenHash) async throws -> TokenRecord? {
        try await guarded { connection, _ in
            try await connection.rows(
                "SELECT \(TokenColumns.names) FROM tokens WHERE hash = $1", [.text(hash.hex)], self.logger
            ).first.map(TokenColumns.decode)
        }
    }

    public func listTokens() async throws -> [TokenRecord] {
        try await guarded { connection, _ in
            try await connection.rows("SELECT \(TokenColumns.names) FROM tokens ORDER BY id", [], self.logger)
                .map(TokenColumns.decode)
        }
    }

    public func revokedTokens(among ids: [Int64]) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return try await guarded { connection, _ in
            var valid: Set<Int64> = []
            for try await id in try await connection.query(
                "SELECT id FROM tokens WHERE revoked_at IS NULL AND id = ANY(\(ids))", logger: self.logger
            ).decode(Int64.self) {
                valid.insert(id)
            }
            return Set(ids).subtracting(valid)
        }
    }

    public func revokeToken(id: Int64) async throws -> TokenRecord? {
        try await guarded { connection, _ in
            let now = Timestamp.now().milliseconds
            try await connection.query(
                "UPDATE tokens SET revoked_at = \(now) WHERE id = \(id) AND revoked_at IS NULL", logger: self.logger)
            return try await connection.rows(
                "SELECT \(TokenColumns.names) FROM tokens WHERE id = $1", [.integer(id)], self.logger
            ).first.map(TokenColumns.decode)
        }
    }
}
