import CIPDomain
import PostgresNIO

/// What a PostgreSQL operation's error means to the API, in one table.
enum PostgresErrors {
    /// - errors of the request's own rules (domain, catalog, a caller's code) and cancellation pass through;
    /// - a lost or refused connection, a stalled statement, or a server that is shutting down or out
    ///   of resources is an outage: `DomainError.unavailable` (503);
    /// - anything else — a statement the server refused, a row that does not decode — is a fault of
    ///   the service: `StoreFailure` (500, with a handle, counted in `cip_database_errors_total`).
    static func classify(_ error: any Error) -> any Error {
        switch error {
        case is DomainError, is CatalogError, is StoreFailure, is CancellationError, is CallerError:
            return error
        case let error as PSQLError:
            guard error.code == .server, let state = error.sqlState else { return DomainError.unavailable }
            // Class 08 (connection exception), 57P01–57P03 (shutting down, cannot connect now), 53 (resources).
            if state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53") {
                return DomainError.unavailable
            }
            return StoreFailure(error)
        case is StoredRowError, is PostgresDecodingError:
            return StoreFailure(error)
        default:
            // Connection refused, reset, timed out, stalled, pool closed: the database is not reachable.
            return DomainError.unavailable
        }
    }
}

extension PSQLError {
    var sqlState: String? { serverInfo?[.sqlState] }
}
