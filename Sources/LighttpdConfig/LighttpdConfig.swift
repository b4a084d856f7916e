import Foundation
import GatehouseCore

/// A lighttpd.conf read the way lighttpd 1.4.69 reads it, for answering offline which values lighttpd
/// would use for a request.
///
/// Read as lighttpd reads it: its tokenizer (the `\"` escape and no other, `#` comments, `,` outside
/// parentheses ignored), its grammar's own LALR tables with lemon's recovery (a token the grammar cannot
/// use is dropped, so `{` may sit on the next line; each drop is a warning here), keys and condition texts
/// compared ASCII-case-insensitively, integers as 32-bit C ints, `=`/`:=`/`+=` and `+` with lighttpd's
/// merge rules and messages, `var.`/bare variables looked up through enclosing blocks, `env.NAME`,
/// `include` (relative to the main file's directory, globs with braces), `include_shell` (only when
/// allowed), `global { … }`, `else` chains, and the quirks that follow from lighttpd keying contexts by
/// their condition text: the same condition twice under one parent is one context in its first place,
/// and `else { … }` takes the key of the opposite condition. Conditions: every `$HTTP[…]` name 1.4.69
/// knows, `$REQUEST_HEADER["…"]`, `$SERVER["socket"]`; `==` `!=` `=~` `!~` `=^` `=$`, `=~` simplified as
/// lighttpd simplifies it, PCRE2 with lighttpd's flags, host and address values normalised as lighttpd
/// normalises them, CIDR blocks for `$HTTP["remoteip"]` `==`/`!=`.
///
/// Stricter than lighttpd, where it would silently do something undefined: a CIDR mask out of range or
/// an unparsable address (lighttpd then compares against memory it never set), strings that are not
/// UTF-8, includes nested over 32 deep (lighttpd has no limit: a loop never ends), more than 100 symbols on the parser
/// stack (lighttpd empties its stack and carries on).
///
/// Not modelled: `%1`…`%9` / `$1`… substitution (lighttpd 1.4.69 applies it only to url.rewrite* and
/// url.redirect values, inside those modules, never to other directives); conditions re-evaluated
/// after mod_extforward changes the request (give the request as it is then; `rewrittenTarget(for:)`
/// models `url.rewrite-once`);
/// `server.http-parseopts` other than url-normalize for query-string conditions.
public struct LighttpdConfig: Sendable {
    /// One configuration context: the global one, or the block of a condition.
    public struct Context: Sendable {
        /// lighttpd's number for it (the "# block N" of `lighttpd -p`); the global context is 0.
        public let index: Int
        /// `$HTTP["url"] =^ "/api/"` as lighttpd prints it (a `=~` that is plain text between anchors
        /// shows as the `==`, `=^` or `=$` lighttpd turns it into); "else" for an `else { … }` block;
        /// nil for the global context.
        public let condition: String?
        public let isElse: Bool
        /// Where the block opens (the `$` or `else`); the main file's start for the global context.
        public let location: SourceLocation
        /// The enclosing context (nil for the global one).
        public let parent: Int?
        /// In an `else` chain, the branch before this one.
        public let previous: Int?
        /// The assignments in the block, in lighttpd's order, each with the place that gave it its value.
        /// Includes `var.*` variables (and lighttpd's own `var.CWD` and `var.PID` in the global context).
        public let directives: [(key: String, value: ConfigValue, location: SourceLocation)]
    }

    /// Every context, in lighttpd's order: global first, then by `index`.
    public let contexts: [Context]
    /// What lighttpd accepts but an administrator should know: tokens its parser silently drops,
    /// duplicate array keys it silently ignores, a NUL byte that ends a file early.
    public let warnings: [LighttpdConfigError]
    /// The global socket's name for `$SERVER["socket"]`: `server.bind` + ":" + `server.port`.
    public let globalSocket: String
    let nodes: [ContextNode]

    /// Reads `path` and everything it includes. `include_shell` runs its command only if `allowShell`;
    /// `env.NAME` and `include_shell` see `environment`. Relative includes resolve against the directory of
    /// `path`; `./` and `../` ones against the current directory, as lighttpd does.
    /// `defines`: values for `var.` variables that win over the configuration's own assignments.
    public static func load(
        path: String, allowShell: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment, defines: [String: String] = [:]
    )
        throws(LighttpdConfigError) -> LighttpdConfig
    {
        let builder = makeBuilder(path: path, allowShell: allowShell, environment: environment)
        builder.defines = defines.mapValues { .string($0) }
        try builder.parseFile(path, at: nil)
        return try LighttpdConfig(builder)
    }

    /// Reads configuration text as if it were the file at `path` (which names it in locations and
    /// anchors relative includes).
    public static func parse(
        _ text: String, path: String = "lighttpd.conf", allowShell: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment
    )
        throws(LighttpdConfigError) -> LighttpdConfig
    {
        let builder = makeBuilder(path: path, allowShell: allowShell, environment: environment)
        try builder.parse(Array(text.utf8), source: path)
        return try LighttpdConfig(builder)
    }

    private static func makeBuilder(path: String, allowShell: Bool, environment: [String: String]) -> ConfigBuilder {
        let base = path.lastIndex(of: "/").map { String(path[...$0]) } ?? ""
        let start = SourceLocation(file: path, line: 1, column: 1)
        // config_vars_init(): lighttpd's own variables.
        let globals: [ContextNode.Entry] = [
            .init(key: "var.CWD", value: .string(FileManager.default.currentDirectoryPath), location: start),
            .init(key: "var.PID", value: .integer(Int32(truncatingIfNeeded: getpid())), location: start),
        ]
        return ConfigBuilder(
            baseDirectory: base, environment: environment, allowShell: allowShell,
            globals: globals, location: start)
    }

    private init(_ builder: ConfigBuilder) throws(LighttpdConfigError) {
        var nodes = builder.nodes
        try Self.finalize(&nodes)
        self.nodes = nodes
        self.warnings = builder.warnings
        self.globalSocket = Self.globalSocket(nodes[0])
        self.contexts = nodes.indices.map { index in
            let node = nodes[index]
            return Context(
                index: index, condition: index == 0 ? nil : node.isElse ? "else" : node.conditionText,
                isElse: node.isElse, location: node.location, parent: node.parent,
                previous: node.previous,
                directives: node.entries.map { ($0.key, $0.value.configValue, $0.location) })
        }
    }

    /// What lighttpd does once the whole file is read: query-string condition values are normalised like
    /// request URLs (unless `server.http-parseopts` disables url-normalize), then regexes are compiled.
    private static func finalize(_ nodes: inout [ContextNode]) throws(LighttpdConfigError) {
        let normalizeQueries = urlNormalizeEnabled(nodes[0])
        for index in nodes.indices {
            guard var condition = nodes[index].condition else { continue }
            if condition.field == .queryString && normalizeQueries {
                condition.value = QueryNormalizer.normalizedCondition(condition.value)
            }
            if condition.op == .match || condition.op == .noMatch {
                switch ConditionRegex.compile(condition.value) {
                case .success(let regex): condition.regex = regex
                case .failure(let error): throw LighttpdConfigError(nodes[index].location, error.message)
                }
            }
            nodes[index].condition = condition
        }
    }

    private static func urlNormalizeEnabled(_ global: ContextNode) -> Bool {
        guard let index = global.entryIndex("server.http-parseopts"),
            case .array(let options) = global.entries[index].value
        else { return true }
        for option in options where option.key == "url-normalize" {
            let value: String
            switch option.value {
            case .string(let text): value = Value.lowercased(text)
            case .integer(let number): value = String(number)
            case .array: continue
            }
            return !["disable", "disabled", "false", "0"].contains(value)
        }
        return true
    }

    private static func globalSocket(_ global: ContextNode) -> String {
        func value(_ key: String) -> Value? { global.entryIndex(key).map { global.entries[$0].value } }
        var bind = ""
        if case .string(let text) = value("server.bind") { bind = text }
        if bind.hasPrefix("/") || bind.hasPrefix("\\") { return bind }
        var port = "80"
        switch value("server.port") {
        case .integer(let number): port = String(number)
        case .string(let text): port = text
        default:
            if case .string(let engine) = value("ssl.engine"),
                ["enable", "enabled", "true", "1"].contains(Value.lowercased(engine))
            {
                port = "443"
            }
        }
        return bind + ":" + port
    }

    // MARK: - Evaluation

    /// The contexts whose conditions hold for the request, global first, in the order lighttpd applies them.
    public func matchingContexts(for request: RequestFacts) -> [Int] {
        var evaluator = Evaluator(nodes: nodes, request: RequestView(request, globalSocket: globalSocket))
        return nodes.indices.filter { evaluator.applies($0) }
    }

    /// Whether a boolean server option (`server.force-lowercase-filenames`) is "enable" for one request.
    public func enabled(_ key: String, for request: RequestFacts) -> Bool {
        guard case .string(let value)? = directives(for: request, prefix: key).first(where: { $0.key == key })?.value
        else { return false }
        return ["enable", "enabled", "1", "true", "on"].contains(Value.lowercased(value))
    }

    /// The effective value of every key starting with `prefix` (ASCII case-insensitively) for one request:
    /// as lighttpd merges them, the global value, then each matching context in order, later ones winning.
    /// Keys come back lower-cased (lighttpd finds `Gatehouse.Issuer` under `gatehouse.issuer`), in the
    /// order they were first set.
    public func directives(
        for request: RequestFacts, prefix: String = ""
    )
        -> [(key: String, value: ConfigValue, location: SourceLocation)]
    {
        let wanted = Value.lowercased(prefix)
        var order = [String]()
        var chosen = [String: ContextNode.Entry]()
        for index in matchingContexts(for: request) {
            for entry in nodes[index].entries {
                let key = Value.lowercased(entry.key)
                guard key.hasPrefix(wanted) else { continue }
                if chosen[key] == nil { order.append(key) }
                chosen[key] = entry
            }
        }
        return order.compactMap { key in chosen[key].map { (key, $0.value.configValue, $0.location) } }
    }
}
