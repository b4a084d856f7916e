internal import CGatehouse

/// One gatehouse.* directive. Its number, name and scope come from gatehouse.h's `GH_V1_DIRECTIVES`
/// list, the one list of directives; how its value compiles and the `Configuration` field it fills
/// come from its descriptor in Directives.swift (docs/architecture.md, "Adding a directive").
public final class Directive: Sendable, Hashable, CustomStringConvertible {
    /// The directive's number in gatehouse.h's `enum gh_v1_directive`.
    public let id: Int
    public let name: String
    /// Set in the global context only (`GH_V1_SCOPE_SERVER`): refused inside a condition.
    public let isServerWide: Bool
    /// Decides whether a request passes (the rules, the default rule, the mode, the CORS preflight
    /// exemption): set where a client alone picks the block, it is warned about (ClientChosenCondition).
    /// gatehouse.token-sources does not: it only says where a token is read, and every token still has
    /// to pass the same rules.
    let decidesAccess: Bool
    private let compileValue: @Sendable (inout DirectiveInput) throws(ConfigError) -> Setting.Compiled
    private let reset: @Sendable (inout Configuration) -> Void

    /// The descriptor of directive `id`: its value compiles with `compile` into a `Value` that fills
    /// `field`; unset, the field keeps the value of a fresh `Configuration`.
    init<Value: Sendable>(
        _ id: gh_v1_directive, fills field: WritableKeyPath<Configuration, Value> & Sendable,
        decidesAccess: Bool = false,
        compile: @escaping @Sendable (inout DirectiveInput) throws(ConfigError) -> Value
    ) {
        self.id = Int(id.rawValue)
        name = String(cString: gh_v1_directive_name(Int32(id.rawValue))!)
        isServerWide = gh_v1_directive_scope(Int32(id.rawValue)) == Int32(GH_V1_SCOPE_SERVER.rawValue)
        self.decidesAccess = decidesAccess
        compileValue = { input throws(ConfigError) in
            let value = try compile(&input)
            return Setting.Compiled(value: value) { $0[keyPath: field] = value }
        }
        reset = { $0[keyPath: field] = Configuration.unset[keyPath: field] }
    }

    /// How many directives gatehouse.h lists.
    static let count = Int(GH_V1_DIRECTIVE_COUNT.rawValue)

    /// The directive numbered `id` in gatehouse.h; nil out of range.
    public static func withID(_ id: Int) -> Directive? {
        allCases.indices.contains(id) ? allCases[id] : nil
    }

    /// The directive spelt exactly `name`.
    public static func named(_ name: String) -> Directive? {
        allCases.first { $0.name == name }
    }

    /// Whether the descriptors are those of gatehouse.h's list, in its order: checked once at startup
    /// (gh_v1_engine_new) and by a test.
    static var registryMatchesHeader: Bool {
        allCases.count == count && allCases.indices.allSatisfy { allCases[$0].id == $0 }
    }

    func compile(_ input: inout DirectiveInput) throws(ConfigError) -> Setting.Compiled {
        try compileValue(&input)
    }

    /// Puts the field this directive fills back to its value when the directive is unset.
    func unset(in configuration: inout Configuration) {
        reset(&configuration)
    }

    public static func == (a: Directive, b: Directive) -> Bool { a.id == b.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
    public var description: String { name }
}

extension Directive {
    /// Checks a configuration key that starts with `gatehouse.` in any letter case. lighttpd finds keys
    /// in any letter case (`Gatehouse.Require` is `gatehouse.require` to it) and only warns about keys
    /// no module asks for, so a misspelt or oddly cased directive would silently leave a location
    /// unguarded, or guard it in a way nothing else reads. Returns nil for a directive as written,
    /// else the message that stops startup, naming the directive meant when one is close.
    public static func problem(withKey key: String) -> String? {
        if named(key) != nil { return nil }
        let folded = Array(key.utf8).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        if let same = allCases.first(where: { Array($0.name.utf8) == folded }) {
            return "unknown directive \(key): did you mean \(same.name)? (directives are written in lower case)"
        }
        let nearest = allCases.map { ($0, editDistance(Array($0.name.utf8), folded)) }.min { $0.1 < $1.1 }
        if let (directive, distance) = nearest, distance <= 3 {
            return "unknown directive \(key): did you mean \(directive.name)?"
        }
        return "unknown directive \(key) (expected one of \(allCases.map(\.name).joined(separator: ", ")))"
    }

    /// Levenshtein distance: insertions, deletions and substitutions.
    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A directive's value as lighttpd's configuration syntax gives it.
public enum ConfigValue: Sendable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    /// `( "a", "b" )` or `( "k" => "v", … )`; a nested list is kept only as a marker.
    case list([(key: String?, value: ConfigValue)])

    public var description: String {
        switch self {
        case .string(let text): "\"\(text)\""
        case .integer(let number): String(number)
        case .list(let entries):
            "("
                + entries.map { entry in
                    (entry.key.map { "\"\($0)\" => " } ?? "") + entry.value.description
                }.joined(separator: ", ") + ")"
        }
    }
}

/// A configuration error: names the directive, what was expected and the value found.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
