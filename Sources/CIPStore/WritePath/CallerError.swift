/// An error thrown by a caller's own code run inside a store's transaction (the feed's parser): the
/// stores' error tables pass it through untouched, and `apply` gives the caller its own error back.
struct CallerError: Error {
    let underlying: any Error

    static func wrapping<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw CallerError(underlying: error)
        }
    }

    static func unwrapping<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as CallerError {
            throw error.underlying
        }
    }
}
