import Foundation
import GatehouseCore
import LighttpdConfig

/// A lighttpd.conf as the CLI loaded it: read the way lighttpd does, with the gatehouse.* values
/// compiled into Settings by GatehouseCore's own compiler (the one the module uses) and assembled
/// into the Configuration in force for one request.
final class LoadedConfig {
    let config: LighttpdConfig
    /// Offline (check, test, `lint --offline`): key and secret files that cannot be opened are warnings.
    let offline: Bool
    private var compiled = [String: Setting]()
    private var warned = Set<String>()

    /// `defines`: `var.NAME` values that replace the configuration's own (`--define NAME=VALUE`).
    init(path: String, allowShell: Bool, defines: [String] = [], offline: Bool) throws {
        var values = [String: String]()
        for define in defines {
            guard let equals = define.firstIndex(of: "="), equals != define.startIndex else {
                throw UsageError("--define \(define): expected NAME=VALUE")
            }
            let name = String(define[..<equals])
            values[name.hasPrefix("var.") ? name : "var." + name] = String(define[define.index(after: equals)...])
        }
        do {
            config = try LighttpdConfig.load(path: path, allowShell: allowShell, defines: values)
        } catch {
            throw UsageError("\(error)")
        }
        self.offline = offline
    }

    /// One directive's compiled value; compiled once per place in the file, its warnings shown once.
    /// `inCondition`: set inside a condition, where a server-wide directive is refused.
    func setting(
        _ directive: Directive, _ value: ConfigValue, at location: SourceLocation, inCondition: Bool = false
    ) throws(ConfigError) -> Setting {
        let key = "\(location) \(directive.name)"
        if let known = compiled[key] { return known }
        let setting = try Setting.compile(directive, value, offline: offline, inCondition: inCondition)
        compiled[key] = setting
        return setting
    }

    /// The Configuration for one request; an invalid value is an error that names its place. Warnings of
    /// the settings it uses go to standard error, once each.
    func configuration(for request: RequestFacts) throws -> Configuration {
        var configuration = Configuration()
        for entry in config.directives(for: request, prefix: "gatehouse.") {
            guard let directive = Directive.named(entry.key) else {
                throw UsageError("\(entry.location): unknown directive \(entry.key)")
            }
            do {
                let setting = try setting(directive, entry.value, at: entry.location)
                for warning in setting.warnings where warned.insert("\(entry.location) \(warning)").inserted {
                    FileHandle.standardError.write(Data("gatehouse: \(entry.location): warning: \(warning)\n".utf8))
                }
                configuration[directive] = setting
            } catch {
                throw UsageError("\(entry.location): \(error)")
            }
        }
        return configuration
    }
}

extension Configuration {
    /// The key files in force that could not be read (offline): a token cannot be verified here.
    var unreadableKeys: [String] {
        [Directive.jwks, .hmacSecretFile].compactMap { directive in
            guard let source = self[directive]?.value as? KeySource, let why = source.unreadable else { return nil }
            return "\(directive.name) \(source.path) (\(why))"
        }
    }
}
