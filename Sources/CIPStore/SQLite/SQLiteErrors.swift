import CIPDomain
import GRDB

/// What an SQLite operation's error means to the API, in one table.
enum SQLiteErrors {
    /// - errors of the request's own rules (domain, catalog, a caller's code) pass through;
    /// - a database still locked by another process after the busy timeout is an outage:
    ///   `DomainError.unavailable` (503);
    /// - anything else — a failed statement, a row that does not decode — is a fault of the service:
    ///   `StoreFailure` (500, with a handle, counted in `cip_database_errors_total`).
    static func classify(_ error: any Error) -> any Error {
        switch error {
        case let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED:
            return DomainError.unavailable
        case is DatabaseError, is RowDecodingError, is StoredRowError:
            return StoreFailure(error)
        default:
            // The request's own errors (domain, catalog, a caller's), a cancellation, a StoreFailure.
            return error
        }
    }
}
