#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on `<database>-serving.lock`, held while a store keeps the file's live calls in
/// memory: a second server on the same file would not see the first one's writes, so it must not start.
/// The kernel releases the lock when the process ends, however it ends.
final class ServingLock: Sendable {
    private let descriptor: Int32

    init(databasePath: String) throws {
        let lockPath = databasePath + "-serving.lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StoreFailure(ServingLockError(message: "cannot open \(lockPath): error \(errno)"))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw ServingLockError(
                message: "another cip server is already serving \(databasePath); "
                    + "several nodes need a shared PostgreSQL database")
        }
        self.descriptor = descriptor
    }

    /// Lets another server take the file, before this lock's owner is gone.
    func release() {
        flock(descriptor, LOCK_UN)
    }

    deinit {
        close(descriptor)
    }
}

/// Why a store may not serve its file: another server is serving it.
public struct ServingLockError: Error, CustomStringConvertible {
    let message: String
    public var description: String { message }
}
