import Foundation
import PostgresNIO

/// Reads `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`.
enum PostgresURL {
    static func configuration(from text: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme),
            let host = components.host, !host.isEmpty
        else {
            throw StoreFailure(URLError(.badURL))
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let mode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "require": tls = .require(.makeClientConfiguration())
        case "prefer": tls = .prefer(.makeClientConfiguration())
        default: tls = .disable
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: database.isEmpty ? nil : database, tls: tls)
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.maximumConnections = 20
        return configuration
    }

    /// The same settings for one connection of its own, outside the pool (`HeadConnection`); nil for a
    /// URL that asks for TLS.
    static func connectionConfiguration(from text: String) throws -> PostgresConnection.Configuration? {
        let pooled = try configuration(from: text)
        guard let components = URLComponents(string: text), let host = components.host else {
            throw StoreFailure(URLError(.badURL))
        }
        guard (components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable") == "disable" else {
            return nil
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: components.port ?? 5432, username: pooled.username, password: pooled.password,
            database: pooled.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }
}
