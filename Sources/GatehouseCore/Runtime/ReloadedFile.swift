import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A file browser sign-in reads (gatehouse.session-key-file, gatehouse.provider-metadata), read
/// again when it changes: lighttpd's once-a-second trigger asks (never a request), a changed file
/// that loads is used from then on, and one that does not keeps the last good value in force.
/// Its value is read on the event loop and copied into off-loop jobs, hence the lock.
final class ReloadedFile<Value: Sendable>: Sendable {
    let path: String
    private let load: @Sendable (String) throws(ConfigError) -> Value
    /// What a loaded value is, in words, for the log line of a reload ("2 session keys").
    private let describe: @Sendable (Value) -> String
    private let state: Mutex<(value: Value, stamp: FileStamp?)>
    /// Why the file on disk is not what is in force: it was refused when the configuration was
    /// loaded again (lighttpd's graceful restart), and the last good value of this file stays.
    let refusal: String?

    /// Loads the file. When it is refused, a process that already served a good value of it keeps
    /// that one and says why in `refusal`; only a first load (a cold start, `lighttpd -tt`) fails.
    init(
        path: String, load: @escaping @Sendable (String) throws(ConfigError) -> Value,
        describe: @escaping @Sendable (Value) -> String
    ) throws(ConfigError) {
        self.path = path
        self.load = load
        self.describe = describe
        let stamp = FileStamp(of: path)
        let name = "\(Value.self) \(path)"
        do {
            let value = try load(path)
            state = Mutex((value, stamp))
            refusal = nil
            lastGood.withLock { $0[name] = value }
        } catch {
            guard let good = lastGood.withLock({ $0[name] }) as? Value else { throw error }
            state = Mutex((good, stamp))
            refusal = error.description
        }
    }

    var value: Value { state.withLock { $0.value } }

    /// nil when the file is unchanged; the value loaded from the changed file; or why the changed
    /// file was refused (the value in force stays).
    func reloadIfChanged() -> Result<Value, ConfigError>? {
        let current = FileStamp(of: path)
        guard current != state.withLock({ $0.stamp }) else { return nil }
        state.withLock { $0.stamp = current }
        do {
            let value = try load(path)
            state.withLock { $0.value = value }
            lastGood.withLock { $0["\(Value.self) \(path)"] = value }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }
}

/// The last value each sign-in file loaded in this process, by type and path. It outlives the
/// configuration: lighttpd's graceful restart frees every setting and compiles them again in the
/// same process (the module is linked with -z nodelete, so this survives its dlclose and dlopen).
private let lastGood = Mutex<[String: any Sendable]>([:])

/// What tells a changed file: its identity, size and modification time (nil: it cannot be seen).
struct FileStamp: Equatable {
    let device: UInt, inode: UInt, size: Int, seconds: Int, nanoseconds: Int

    init?(of path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        device = UInt(status.st_dev)
        inode = UInt(status.st_ino)
        size = Int(status.st_size)
        seconds = Int(status.st_mtim.tv_sec)
        nanoseconds = Int(status.st_mtim.tv_nsec)
    }
}

/// A reloaded file of any type, as the once-a-second reload sees it.
protocol ReloadableFile: AnyObject {
    var path: String { get }
    /// nil when unchanged; what was loaded, in words; or why the changed file was refused.
    func reloadDescribed() -> Result<String, ConfigError>?
}

extension ReloadedFile: ReloadableFile {
    func reloadDescribed() -> Result<String, ConfigError>? {
        reloadIfChanged().map { $0.map(describe) }
    }
}
