/// The compiled value of one directive in one configuration context. Compiled once, when the
/// configuration loads (lighttpd's set_defaults, or the CLI reading lighttpd.conf); immutable.
public final class Setting: Sendable {
    public enum Value: Sendable {
        case strings([String])
        case audiences([String]?)
        case keys(KeySource)
        case algorithms(Set<JWSAlgorithm>)
        case seconds(Int64)
        case count(Int64)
        case text(String)
        case claim(ClaimPath)
        case rules(RuleSet)
        case expression(Expression)
        case mapping([IdentityField])
        case inheritance(RoleInheritance)
        case reportOnly(Bool)
        case preflight(CORSPreflight?)
        case pathChecks(PathChecks)
        case sources([TokenSource])
        case auditsAll(Bool)
        case limits([RateLimiter.Limit])
        case signIn(SignInValue)
    }

    public let directive: Directive
    public let value: Value
    /// Warnings to show once at startup (an audience of "*", say).
    public let warnings: [String]

    init(directive: Directive, value: Value, warnings: [String] = []) {
        self.directive = directive
        self.value = value
        self.warnings = warnings
    }

    /// The warning for a key file read offline that could not be opened.
    /// The one compiler of gatehouse.* values, used by the module and the CLI alike. `offline` (the CLI
    /// only): a key or secret file that cannot be opened is a warning, and its source has no keys.
    public static func compile(
        _ directive: Directive, _ value: ConfigValue, offline: Bool = false
    ) throws(ConfigError) -> Setting {
        let name = directive.name
        func fail(_ expected: String) -> ConfigError {
            ConfigError("\(name): expected \(expected), got \(value)")
        }
        switch directive {
        case .login, .clientID, .clientSecretFile, .tokenEndpointAuth, .sessionKeyFile, .providerMetadata,
            .loginScopes, .callbackPath, .logoutPath, .postLogoutRedirect, .sessionLifetime, .sessionIdleTimeout,
            .signInWorkers, .signInTimeout:
            let (signIn, warning) = try SignInSettings.compile(directive, value, offline: offline)
            return Setting(directive: directive, value: .signIn(signIn), warnings: warning.map { [$0] } ?? [])
        case .issuer:
            let issuers = try strings(value, orFail: fail("a string or a list of strings (\"https://idp.example/\")"))
            return Setting(directive: directive, value: .strings(issuers))
        case .audience:
            let audiences = try strings(value, orFail: fail("a string or a list of strings (\"my-api\"), or \"*\""))
            if audiences == ["*"] {
                return Setting(
                    directive: directive, value: .audiences(nil),
                    warnings: ["\(name) = \"*\" accepts tokens meant for any audience"])
            }
            if audiences.contains("*") { throw fail("\"*\" alone or a list of audiences without \"*\"") }
            return Setting(directive: directive, value: .audiences(audiences))
        case .jwks:
            guard case .string(let path) = value, !path.isEmpty else { throw fail("the path of a JWKS or PEM file") }
            return try keySetting(directive, path: path, isSecret: false, offline: offline)
        case .algorithms:
            let names = try strings(value, orFail: fail("a list of JWS algorithms (\"RS256\", \"ES256\")"))
            var algorithms = Set<JWSAlgorithm>()
            for name in names {
                guard let algorithm = JWSAlgorithm(name: name) else {
                    let known = JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
                    throw ConfigError(
                        name.lowercased() == "none"
                            ? "\(directive.name): \"\(name)\" is never accepted: unsigned tokens prove nothing"
                            : "\(directive.name): unknown algorithm \"\(name)\" (expected some of \(known))")
                }
                algorithms.insert(algorithm)
            }
            return Setting(directive: directive, value: .algorithms(algorithms))
        case .leeway:
            return Setting(
                directive: directive,
                value: .seconds(try wholeNumber(value, in: 0...86_400, name: name, expected: "seconds from 0 to 86400"))
            )
        case .hmacSecretFile:
            guard case .string(let path) = value, !path.isEmpty else {
                throw fail("the path of a file holding the shared secret")
            }
            return try keySetting(directive, path: path, isSecret: true, offline: offline)
        case .cacheSize:
            return Setting(
                directive: directive,
                value: .count(
                    try wholeNumber(
                        value, in: 0...10_000_000, name: name, expected: "a number of tokens from 0 to 10000000")))
        case .roleInherits:
            guard case .list(let entries) = value, !entries.isEmpty else {
                throw fail("a list of ROLE => \"IMPLIED[, IMPLIED...]\" like ( \"admin\" => \"operator\" )")
            }
            var pairs = [(role: String, implied: [String])]()
            for entry in entries {
                guard let role = entry.key, !role.isEmpty, case .string(let text) = entry.value else {
                    throw fail("a list of ROLE => \"IMPLIED[, IMPLIED...]\" like ( \"admin\" => \"operator\" )")
                }
                let implied = text.split(separator: ",", omittingEmptySubsequences: false).map { name in
                    String(name.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
                }
                guard !implied.isEmpty, implied.allSatisfy({ !$0.isEmpty }) else {
                    throw ConfigError("\(name): \"\(role)\" => \"\(text)\": expected role names separated by commas")
                }
                pairs.append((role, implied))
            }
            return Setting(directive: directive, value: .inheritance(try RoleInheritance(pairs)))
        case .mode:
            guard case .string(let text) = value, text == "enforce" || text == "report-only" else {
                throw fail("\"enforce\" or \"report-only\"")
            }
            return Setting(directive: directive, value: .reportOnly(text == "report-only"))
        case .auditLog:
            guard case .string(let target) = value, !target.isEmpty, target != "|" else {
                throw fail("a file path, or \"|command\" to pipe the lines to a program")
            }
            // lighttpd opens the file only when it starts for real (not under -tt): check its folder now.
            if !target.hasPrefix("|"), !offline {
                let folder = target.lastIndex(of: "/").map { String(target[..<$0]) } ?? "."
                guard FileBytes.isFolder(folder.isEmpty ? "/" : folder) else {
                    throw ConfigError(
                        "\(name): the folder \"\(folder)\" of \"\(target)\" does not exist (expected a file in "
                            + "an existing folder, or \"|command\" to pipe the lines to a program)")
                }
            }
            return Setting(directive: directive, value: .text(target))
        case .statusURL:
            // Compared with the request's path once lighttpd has decoded and normalised it.
            let expected =
                "a path of its own such as \"/gatehouse-status\" (not \"/\"; no \"//\", \".\" or \"..\" "
                + "segments, %-escapes or \"?\")"
            guard case .string(let path) = value, path.hasPrefix("/"), path != "/",
                path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "%") })
            else { throw fail(expected) }
            let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            guard segments.dropLast().allSatisfy({ !$0.isEmpty }), segments.allSatisfy({ $0 != "." && $0 != ".." })
            else { throw fail(expected) }
            return Setting(directive: directive, value: .text(path))
        case .rateLimit:
            let expected =
                "a list of METHODS => \"N/second|minute|hour|day\" like ( \"POST\" => \"30/minute\", \"*\" => \"600/minute\" )"
            guard case .list(let entries) = value, !entries.isEmpty else { throw fail(expected) }
            var limits = [RateLimiter.Limit]()
            for entry in entries {
                guard let methods = entry.key, case .string(let rate) = entry.value,
                    let limit = RateLimiter.Limit(methods: methods, rate: rate)
                else { throw fail(expected) }
                limits.append(limit)
            }
            return Setting(directive: directive, value: .limits(limits))
        case .auditEvents:
            guard case .string(let text) = value, text == "deny" || text == "all" else {
                throw fail("\"deny\" (refusals only) or \"all\"")
            }
            return Setting(directive: directive, value: .auditsAll(text == "all"))
        case .tokenSources:
            let names = try strings(
                value,
                orFail: fail("a list of \"header:Authorization\", \"header:NAME\", \"cookie:NAME\", \"query:NAME\""))
            var sources = [TokenSource]()
            for text in names {
                guard let source = TokenSource(text) else {
                    throw ConfigError(
                        "\(name): \"\(text)\" is not a token source (expected \"header:Authorization\", "
                            + "\"header:NAME\", \"cookie:NAME\" or \"query:NAME\")")
                }
                if let earlier = sources.firstIndex(where: { samePlace($0, source) }) {
                    throw ConfigError(
                        "\(name): \"\(names[earlier])\" and \"\(text)\" read the same place (names compare in any "
                            + "letter case, header names as a CGI backend sees them); list each source once")
                }
                sources.append(source)
            }
            return Setting(directive: directive, value: .sources(sources))
        case .corsPreflight:
            return Setting(directive: directive, value: .preflight(try CORSPreflight.compile(value, name: name)))
        case .pathChecks:
            let known = PathChecks.names.map { "\"\($0.name)\"" }.joined(separator: ", ")
            if case .string("none") = value { return Setting(directive: directive, value: .pathChecks([])) }
            let names = try strings(value, orFail: fail("a list of the checks to keep (\(known)), or \"none\""))
            var checks = PathChecks()
            for text in names {
                guard let check = PathChecks.names.first(where: { $0.name == text })?.check else {
                    throw ConfigError("\(name): unknown check \"\(text)\" (expected some of \(known), or \"none\")")
                }
                checks.insert(check)
            }
            let off = PathChecks.names.filter { !checks.contains($0.check) }.map(\.name)
            return Setting(
                directive: directive, value: .pathChecks(checks),
                warnings: off.isEmpty
                    ? [] : ["\(name): paths are not checked for \(off.joined(separator: ", ")) (see docs/security.md)"])
        case .maxTokenAge:
            return Setting(
                directive: directive,
                value: .seconds(
                    try wholeNumber(
                        value, in: 1...315_360_000, name: name, expected: "seconds from 1 to 315360000")))
        case .tokenType, .realm:
            guard case .string(let text) = value, !text.isEmpty,
                text.utf8.allSatisfy({
                    $0 >= 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\")
                })
            else {
                throw fail(
                    directive == .realm
                        ? "a non-empty string without quotes, backslashes or control characters"
                        : "a media type such as \"at+jwt\"")
            }
            return Setting(directive: directive, value: .text(text))
        case .rolesClaim, .groupsClaim, .scopeClaim:
            guard case .string(let text) = value, let path = ClaimPath(text) else {
                throw fail("a claim name or a dot path into nested claims (\"realm_access.roles\")")
            }
            return Setting(directive: directive, value: .claim(path))
        case .require:
            guard case .list(let entries) = value else { throw fail("a list of \"PATTERN\" => \"EXPRESSION\" rules") }
            var rules = [(pattern: String, expression: String)]()
            for entry in entries {
                guard let key = entry.key, case .string(let expression) = entry.value else {
                    throw fail("a list of \"PATTERN\" => \"EXPRESSION\" rules")
                }
                rules.append((key, expression))
            }
            do {
                return Setting(directive: directive, value: .rules(try RuleSet(rules)))
            } catch {
                throw ConfigError("\(name): \(error)")
            }
        case .defaultRule:
            guard case .string(let text) = value else {
                throw fail("an expression such as \"deny\" or \"authenticated\"")
            }
            do {
                return Setting(directive: directive, value: .expression(try PolicyParser.parse(text)))
            } catch {
                throw ConfigError("\(name): \(error)")
            }
        case .headers, .env:
            return Setting(directive: directive, value: .mapping(try IdentityField.compile(directive, value)))
        case .stripHeaders:
            let names = try strings(value, orFail: fail("a list of header names"))
            for header in names where !IdentityField.isHeaderName(header) {
                throw ConfigError("\(name): \"\(header)\" is not a valid header name")
            }
            return Setting(directive: directive, value: .strings(names))
        }
    }

    /// A key file's setting; a file refused on a graceful restart, whose last good keys stay in
    /// force, is said loudly.
    /// A key file's setting. Said loudly: a file refused on a graceful restart, whose last good keys
    /// stay in force; offline, a file that cannot be opened.
    private static func keySetting(_ directive: Directive, path: String, isSecret: Bool, offline: Bool)
        throws(ConfigError) -> Setting
    {
        let source: KeySource
        do {
            source = try KeySource(path: path, isSecret: isSecret, offline: offline)
        } catch {
            throw ConfigError("\(directive.name): \(error)")
        }
        var warnings = source.keys.skipped.map { "\(directive.name): \($0)" }
        if let why = source.refusal {
            warnings.append(
                "\(directive.name): \(path) was refused (\(why)); still serving the last good keys of this file, "
                    + "loaded at Unix time \(source.loaded): fix the file, it is read again when it changes")
        }
        if let why = source.unreadable {
            warnings.append("\(directive.name): cannot read \(path): \(why) (tokens cannot be verified)")
        }
        return Setting(directive: directive, value: .keys(source), warnings: warnings)
    }

    /// A string, or a list of strings without keys; never empty, no empty element.
    private static func strings(_ value: ConfigValue, orFail error: ConfigError) throws(ConfigError) -> [String] {
        switch value {
        case .string(let text) where !text.isEmpty:
            return [text]
        case .list(let entries) where !entries.isEmpty:
            var result = [String]()
            for entry in entries {
                guard entry.key == nil, case .string(let text) = entry.value, !text.isEmpty else { throw error }
                result.append(text)
            }
            return result
        default:
            throw error
        }
    }

    /// Whether two token sources read the same header (as a CGI backend sees its name), cookie or
    /// query parameter (in any letter case).
    private static func samePlace(_ a: TokenSource, _ b: TokenSource) -> Bool {
        switch (a, b) {
        case (.authorization, .authorization): true
        case (.header(let x), .header(let y)): IdentityField.normalisedName(x) == IdentityField.normalisedName(y)
        case (.cookie(let x), .cookie(let y)), (.query(let x), .query(let y)): x.lowercased() == y.lowercased()
        default: false
        }
    }

    /// A whole number in `range`. lighttpd's parser reads only digits, into a 32-bit int: a negative
    /// integer is a number over 2147483647 that wrapped around (`2147483648` arrives as -2147483648).
    private static func wholeNumber(
        _ value: ConfigValue, in range: ClosedRange<Int64>, name: String, expected: String
    ) throws(ConfigError) -> Int64 {
        let error = ConfigError("\(name): expected \(expected), got \(value)")
        switch value {
        case .integer(let number) where number < 0:
            throw ConfigError(
                "\(name): \(number) is out of range: lighttpd keeps numbers in 32 bits, so one over 2147483647 "
                    + "wraps around to a negative number (expected \(expected))")
        case .integer(let number) where range.contains(number): return number
        case .string(let text):  // lighttpd gives numbers from env.* variables as strings
            guard let number = Int64(text), range.contains(number) else { throw error }
            return number
        default: throw error
        }
    }
}
