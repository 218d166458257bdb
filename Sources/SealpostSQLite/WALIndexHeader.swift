import GRDB
import GRDBSQLite
import Synchronization

/// The first 48 bytes of a WAL database's wal-index (`-shm`): SQLite's commit record.
///
/// Every commit, by any connection of any process, rewrites this header (its `iChange`
/// counter moves on each time, with the frame count and checksums), before the commit returns
/// to its caller (https://sqlite.org/walformat.html, "The WAL-Index Header"). So an unchanged
/// header means nothing was committed since it was last read.
struct WALIndexHeader: Equatable, Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    static func == (a: Self, b: Self) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
            && a.words.4 == b.words.4 && a.words.5 == b.words.5
    }
}

/// SQLite's own mapping of the wal-index's first region, as a connection of this process
/// holds it, read without a lock or a system call.
///
/// Why SQLite's mapping and not a file descriptor of our own: closing any descriptor of the
/// `-shm` file would drop every POSIX lock this process holds on it, SQLite's included. The
/// mapping stays valid as long as the connection it was taken from is open (SQLite unmaps it
/// only when the connection's WAL closes), so its owner keeps that connection for its lifetime.
final class WALIndexMapping: @unchecked Sendable {
    // SAFETY: read-only loads from memory shared with SQLite; the owner keeps the connection open.
    private let base: UnsafeRawPointer

    /// The mapping of `db`'s wal-index region 0, or nil when the connection has none (not in
    /// WAL mode, a VFS without shared memory, a heap wal-index): callers then always ask SQLite.
    init?(_ db: Database) {
        // A read maps region 0 if this connection has not yet.
        _ = try? Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master")
        var file: UnsafeMutableRawPointer?
        guard sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK,
            let file
        else { return nil }
        let handle = file.assumingMemoryBound(to: sqlite3_file.self)
        guard let methods = handle.pointee.pMethods, methods.pointee.iVersion >= 2, let map = methods.pointee.xShmMap else {
            return nil
        }
        var region: UnsafeMutableRawPointer?
        // bExtend 0: only an existing region; never creates or grows the file.
        guard map(handle, 0, 32768, 0, &region) == SQLITE_OK, let region else { return nil }
        base = UnsafeRawPointer(region)
        guard read() != nil else { return nil }
    }

    /// The header, or nil while a commit is rewriting it (its two copies differ) or when it is
    /// not initialised. SQLite writes the second copy first and the first copy last, so reading
    /// them in the opposite order and finding them equal means a whole header.
    func read() -> WALIndexHeader? {
        let first = load(at: 0)
        atomicMemoryFence(ordering: .acquiring)
        let second = load(at: 48)
        guard first == second else { return nil }
        // iVersion (bytes 0..<4) is 3007000; isInit (byte 12) is 1 once the header is valid.
        let version = UInt32(truncatingIfNeeded: first.words.0)
        let isInit = UInt8(truncatingIfNeeded: first.words.1 >> 32)
        guard version == 3_007_000, isInit == 1 else { return nil }
        return first
    }

    private func load(at offset: Int) -> WALIndexHeader {
        let p = base + offset
        return WALIndexHeader(
            words: (
                p.loadUnaligned(fromByteOffset: 0, as: UInt64.self), p.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                p.loadUnaligned(fromByteOffset: 16, as: UInt64.self), p.loadUnaligned(fromByteOffset: 24, as: UInt64.self),
                p.loadUnaligned(fromByteOffset: 32, as: UInt64.self), p.loadUnaligned(fromByteOffset: 40, as: UInt64.self)
            ))
    }
}
