#if canImport(Glibc)
    import Glibc
#endif

/// The Configuration of each settings vector the shim hands over: one per set of lighttpd conditions
/// that a request matches, merged by the shim from the contexts' settings. Each is built the first
/// time it is seen and kept for the life of the process: the contexts and their settings are fixed at
/// startup, so the merges are a finite set, and no request derives a Configuration once its set of
/// conditions has been seen. (Building them all at startup would mean enumerating every combination
/// of conditions that can hold together, which lighttpd does not expose.)
final class ConfigurationTable {
    /// One settings vector and its Configuration. A class, so that a request borrows the
    /// Configuration (`context.configuration`) instead of copying its every field.
    final class Context {
        let settings: [OpaquePointer?]
        let configuration: Configuration

        init(settings: [OpaquePointer?], configuration: Configuration) {
            self.settings = settings
            self.configuration = configuration
        }

        func holds(_ other: UnsafePointer<OpaquePointer?>) -> Bool {
            settings.withUnsafeBytes { known in
                memcmp(known.baseAddress!, other, known.count) == 0
            }
        }
    }

    private var table: [Int: [Context]] = [:]
    /// The vector seen last: most requests of a server fall in the context of the one before.
    private var last: Context?

    func context(for settings: UnsafePointer<OpaquePointer?>) -> Context {
        if let last, last.holds(settings) { return last }
        var hasher = Hasher()
        hasher.combine(
            bytes: UnsafeRawBufferPointer(start: settings, count: Directive.count * MemoryLayout<OpaquePointer?>.stride)
        )
        let key = hasher.finalize()
        let found =
            table[key]?.first { $0.holds(settings) }
            ?? {
                let fresh = Context(
                    settings: Array(UnsafeBufferPointer(start: settings, count: Directive.count)),
                    configuration: Configuration(settings))
                table[key, default: []].append(fresh)
                return fresh
            }()
        last = found
        return found
    }
}
