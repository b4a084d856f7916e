import GatehouseCore
import LighttpdConfig

/// Reads lighttpd.conf the way lighttpd does and compiles the gatehouse.* values in force for
/// one request with GatehouseCore's own compiler (the one the module uses).
struct PolicyConfig {
    let config: LighttpdConfig

    init(path: String, allowShell: Bool) throws {
        do {
            config = try LighttpdConfig.load(path: path, allowShell: allowShell)
        } catch {
            throw UsageError("\(error)")
        }
    }

    /// The Configuration for one request; an invalid value is an error that names its place.
    func configuration(for request: RequestFacts) throws -> Configuration {
        var configuration = Configuration()
        for entry in config.directives(for: request, prefix: "gatehouse.") {
            guard let directive = Directive(name: entry.key) else {
                throw UsageError("\(entry.location): unknown directive \(entry.key)")
            }
            do {
                configuration[directive] = try Setting.compile(directive, entry.value)
            } catch {
                throw UsageError("\(entry.location): \(error)")
            }
        }
        return configuration
    }
}
