#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files, which bounds how many connections it can hold.
enum FileLimit {
    /// Descriptors kept for what is not a client connection: the database's files or connections,
    /// the listening socket, the event loops' own, standard streams, the serving lock.
    static let reserved = 128

    /// Raises the soft limit to the hard one (the usual soft 1,024 is far below what a server
    /// needs) and returns the soft limit in force; nil when it cannot be read.
    static func raiseSoftToHard() -> Int? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// The connections a server may hold under `softLimit` open files.
    static func connectionCap(requested: Int, softLimit: Int?) -> Int {
        guard let softLimit else { return requested }
        return max(16, min(requested, softLimit - reserved))
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
