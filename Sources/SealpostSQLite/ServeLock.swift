import Foundation
import SealpostStorage

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` held for the life of `serve`: a second server on the same SQLite file
/// is refused with a clear message. The kernel drops the lock when the process dies, even by
/// `kill -9`, so a restart never finds a stale lock.
final class ServeLock: Sendable {
    private let fd: Int32

    init(path: String) throws {
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.inUse("cannot open lock file \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StoreError.inUse("another sealpost serve is already using this database (\(path) is locked)")
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
