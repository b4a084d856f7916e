/// The Configuration of each settings vector the shim hands over: one per set of lighttpd conditions
/// that a request matches, merged by the shim from the contexts' settings. Each is built the first
/// time it is seen and kept for the life of the process: the contexts and their settings are fixed at
/// startup, so the merges are a finite set, and no request derives a Configuration once its set of
/// conditions has been seen. (Building them all at startup would mean enumerating every combination
/// of conditions that can hold together, which lighttpd does not expose.)
final class ConfigurationTable {
    private var table: [Int: [(settings: [OpaquePointer?], configuration: Configuration)]] = [:]
    /// The vector seen last, and its Configuration: most requests of a server fall in the context of
    /// the one before.
    private var lastSettings: [OpaquePointer?] = []
    private var lastConfiguration = Configuration()

    func configuration(for settings: UnsafePointer<OpaquePointer?>) -> Configuration {
        let count = Directive.count
        if lastSettings.count == count, Self.same(lastSettings, settings, count) { return lastConfiguration }
        var hasher = Hasher()
        for index in 0..<count { hasher.combine(settings[index]) }
        let key = hasher.finalize()
        if let known = table[key]?.first(where: { Self.same($0.settings, settings, count) }) {
            lastSettings = known.settings
            lastConfiguration = known.configuration
        } else {
            lastSettings = Array(UnsafeBufferPointer(start: settings, count: count))
            lastConfiguration = Configuration(settings)
            table[key, default: []].append((lastSettings, lastConfiguration))
        }
        return lastConfiguration
    }

    private static func same(_ known: [OpaquePointer?], _ settings: UnsafePointer<OpaquePointer?>, _ count: Int) -> Bool
    {
        (0..<count).allSatisfy { known[$0] == settings[$0] }
    }
}
