/// The compiled value of one directive in one configuration context. Compiled once, when the
/// configuration loads (lighttpd's set_defaults, or the CLI reading lighttpd.conf); immutable.
/// It applies itself to a `Configuration`: it fills its directive's field.
public final class Setting: Sendable {
    /// A descriptor's compiled value, and how it fills its field.
    struct Compiled {
        let value: any Sendable
        let apply: @Sendable (inout Configuration) -> Void
    }

    public let directive: Directive
    /// The compiled value, of the type of the `Configuration` field it fills (a `RuleSet` for
    /// gatehouse.require, a `KeySource` for gatehouse.jwks...).
    public let value: any Sendable
    /// Warnings to show once at startup (an audience of "*", say).
    public let warnings: [String]
    private let fill: @Sendable (inout Configuration) -> Void

    private init(directive: Directive, compiled: Compiled, warnings: [String]) {
        self.directive = directive
        value = compiled.value
        fill = compiled.apply
        self.warnings = warnings
    }

    /// The one compiler of gatehouse.* values, used by the module and the CLI alike. `offline` (the CLI
    /// only): a key or secret file that cannot be opened is a warning, and its source has no keys.
    /// `inCondition`: set inside a lighttpd condition, where a server-wide directive is refused.
    public static func compile(
        _ directive: Directive, _ value: ConfigValue, offline: Bool = false, inCondition: Bool = false
    ) throws(ConfigError) -> Setting {
        if inCondition, directive.isServerWide {
            throw ConfigError("\(directive.name) is server-wide: set it outside every condition")
        }
        var input = DirectiveInput(name: directive.name, value: value, offline: offline)
        let compiled = try directive.compile(&input)
        return Setting(directive: directive, compiled: compiled, warnings: input.warnings)
    }

    /// Fills this setting's field of `configuration`.
    func apply(to configuration: inout Configuration) {
        fill(&configuration)
    }
}
