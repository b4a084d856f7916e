#if canImport(Glibc)
import Glibc
#endif

/// A key file in force (`gatehouse.jwks`, `gatehouse.hmac-secret-file`): its keys, read again
/// when the file changes. lighttpd's once-a-second trigger asks (never a request); a new file
/// that does not load is refused whole and the last good keys stay.
/// Used from lighttpd's one thread (or the CLI's): not for concurrent use.
public final class KeySource: @unchecked Sendable {
    public let path: String
    private let isSecret: Bool
    public private(set) var keys: KeySet
    /// Unix time of the last successful load.
    public private(set) var loaded: Int64
    private var stamp: Stamp?

    /// What tells a changed file: its identity, size and modification time.
    private struct Stamp: Equatable {
        let device: UInt, inode: UInt, size: Int, seconds: Int, nanoseconds: Int
    }

    init(path: String, isSecret: Bool) throws(KeyError) {
        self.path = path
        self.isSecret = isSecret
        stamp = KeySource.stamp(of: path)
        keys = isSecret ? try KeySet.loadSecret(path: path) : try KeySet.load(path: path)
        loaded = Int64(time(nil))
    }

    /// nil when the file is unchanged; the number of keys after a reload; or why the new file
    /// was refused (the keys in force stay).
    func reloadIfChanged() -> Result<Int, KeyError>? {
        let current = KeySource.stamp(of: path)
        guard current != stamp else { return nil }
        stamp = current
        do {
            keys = isSecret ? try KeySet.loadSecret(path: path) : try KeySet.load(path: path)
            loaded = Int64(time(nil))
            return .success(keys.keys.count)
        } catch {
            return .failure(error)
        }
    }

    private static func stamp(of path: String) -> Stamp? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return Stamp(device: UInt(status.st_dev), inode: UInt(status.st_ino), size: Int(status.st_size),
                     seconds: Int(status.st_mtim.tv_sec), nanoseconds: Int(status.st_mtim.tv_nsec))
    }
}
