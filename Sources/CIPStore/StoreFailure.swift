/// A fault of the database itself (not of the request): answered as a 500 and counted.
public struct StoreFailure: Error, CustomStringConvertible {
    public let underlying: any Error

    public init(_ underlying: any Error) {
        self.underlying = underlying
    }

    public var description: String { "database error: \(underlying)" }
}
