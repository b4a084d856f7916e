import Synchronization

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
    private var stamp: FileStamp?
    /// Why the file could not be opened, for a source read offline (no keys then); nil when it loaded.
    public let unreadable: String?

    /// Why the file on disk is not what is in force: it was refused when the configuration was
    /// loaded again (lighttpd's graceful restart) and the last good keys of this file stay.
    public let refusal: String?

    /// Loads the file. When it is refused, a process that already served good keys from it (a
    /// graceful restart reloads the configuration in the same process) keeps serving those and
    /// says why in `refusal`; only a first load (a cold start, `lighttpd -tt`, the CLI) fails.
    /// `offline` (the CLI deciding without the server's files): a file that cannot be opened gives a
    /// source without keys that says why, instead of an error. A file that opens must load either way.
    init(path: String, isSecret: Bool, offline: Bool = false) throws(KeyError) {
        self.path = path
        self.isSecret = isSecret
        unreadable = offline && access(path, R_OK) != 0 ? String(cString: strerror(errno)) : nil
        guard unreadable == nil else {
            keys = KeySet(keys: [])
            loaded = 0
            refusal = nil
            return
        }
        stamp = FileStamp(of: path)
        do {
            keys = isSecret ? try KeySet.loadSecret(path: path) : try KeySet.load(path: path)
            loaded = Int64(time(nil))
            refusal = nil
            KeySource.remember(self)
        } catch {
            guard let good = KeySource.lastGood.withLock({ $0[Remembered.Name(path: path, isSecret: isSecret)] })
            else { throw error }
            keys = good.keys
            loaded = good.loaded
            refusal = "\(error)"
        }
    }

    /// nil when the file is unchanged; the number of keys after a reload; or why the new file
    /// was refused (the keys in force stay).
    func reloadIfChanged() -> Result<Int, KeyError>? {
        let current = FileStamp(of: path)
        guard current != stamp else { return nil }
        stamp = current
        do {
            keys = isSecret ? try KeySet.loadSecret(path: path) : try KeySet.load(path: path)
            loaded = Int64(time(nil))
            KeySource.remember(self)
            return .success(keys.keys.count)
        } catch {
            return .failure(error)
        }
    }

    /// The last keys each file loaded in this process. It outlives the configuration: lighttpd's
    /// graceful restart frees every setting and compiles them again in the same process (the
    /// module is linked with -z nodelete, so this survives its dlclose and dlopen).
    private static let lastGood = Mutex<[Remembered.Name: Remembered]>([:])

    private struct Remembered: Sendable {
        struct Name: Hashable { let path: String, isSecret: Bool }
        let keys: KeySet
        let loaded: Int64
    }

    private static func remember(_ source: KeySource) {
        let name = Remembered.Name(path: source.path, isSecret: source.isSecret)
        lastGood.withLock { $0[name] = Remembered(keys: source.keys, loaded: source.loaded) }
    }
}
