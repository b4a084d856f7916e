internal import CGatehouse

// The descriptor of each gatehouse.* directive: its gatehouse.h number, how its value compiles and the
// `Configuration` field it fills. A directive is one line in gatehouse.h's GH_V1_DIRECTIVES list and
// one descriptor here (docs/architecture.md, "Adding a directive"); docs/configuration.md says what
// each one means.

extension Directive {
    /// Every directive, in gatehouse.h's order (checked at startup: `registryMatchesHeader`).
    public static let allCases: [Directive] = [
        issuer, audience, jwks, algorithms, leeway, maxTokenAge, tokenType, rolesClaim, groupsClaim, scopeClaim,
        require, defaultRule, headers, stripHeaders, env, realm, hmacSecretFile, cacheSize, roleInherits, mode,
        corsPreflight, tokenSources, auditLog, auditEvents, rateLimit, statusURL, pathChecks,
        login, clientID, clientSecretFile, tokenEndpointAuth, sessionKeyFile, providerMetadata, loginScopes,
        callbackPath, logoutPath, postLogoutRedirect, sessionLifetime, sessionIdleTimeout, signInWorkers,
        signInTimeout, claimsSchema, refreshBefore, verifyThreads, verifyQueue,
    ]

    public static let issuer = Directive(GH_V1_ISSUER, fills: \.tokenRequirements.issuers) {
        input throws(ConfigError) in
        try input.strings(orFail: input.fail("a string or a list of strings (\"https://idp.example/\")"))
    }

    public static let audience = Directive(GH_V1_AUDIENCE, fills: \.tokenRequirements.audiences) {
        input throws(ConfigError) in
        let audiences = try input.strings(
            orFail: input.fail("a string or a list of strings (\"my-api\"), or \"*\""))
        if audiences == ["*"] {
            input.warnings.append("\(input.name) = \"*\" accepts tokens meant for any audience")
            return nil
        }
        if audiences.contains("*") { throw input.fail("\"*\" alone or a list of audiences without \"*\"") }
        return audiences
    }

    public static let jwks = Directive(GH_V1_JWKS, fills: \.jwks) { input throws(ConfigError) in
        guard case .string(let path) = input.value, !path.isEmpty else {
            throw input.fail("the path of a JWKS or PEM file")
        }
        return try input.keySource(path: path, isSecret: false)
    }

    public static let algorithms = Directive(GH_V1_ALGORITHMS, fills: \.tokenRequirements.algorithms) {
        input throws(ConfigError) in
        let names = try input.strings(orFail: input.fail("a list of JWS algorithms (\"RS256\", \"ES256\")"))
        var algorithms = Set<JWSAlgorithm>()
        for name in names {
            guard let algorithm = JWSAlgorithm(name: name) else {
                let known = JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigError(
                    name.lowercased() == "none"
                        ? "\(input.name): \"\(name)\" is never accepted: unsigned tokens prove nothing"
                        : "\(input.name): unknown algorithm \"\(name)\" (expected some of \(known))")
            }
            algorithms.insert(algorithm)
        }
        return algorithms
    }

    public static let leeway = Directive(GH_V1_LEEWAY, fills: \.tokenRequirements.leeway) {
        input throws(ConfigError) in
        try input.wholeNumber(in: 0...86_400, expected: "seconds from 0 to 86400")
    }

    public static let maxTokenAge = Directive(GH_V1_MAX_TOKEN_AGE, fills: \.tokenRequirements.maxTokenAge) {
        input throws(ConfigError) in
        try input.wholeNumber(in: 1...315_360_000, expected: "seconds from 1 to 315360000")
    }

    public static let tokenType = Directive(GH_V1_TOKEN_TYPE, fills: \.tokenRequirements.tokenType) {
        input throws(ConfigError) in
        try input.quotable(orFail: input.fail("a media type such as \"at+jwt\""))
    }

    public static let rolesClaim = Directive(GH_V1_ROLES_CLAIM, fills: \.claimPaths.roles) {
        input throws(ConfigError) in try input.claimPath()
    }

    public static let groupsClaim = Directive(GH_V1_GROUPS_CLAIM, fills: \.claimPaths.groups) {
        input throws(ConfigError) in try input.claimPath()
    }

    public static let scopeClaim = Directive(GH_V1_SCOPE_CLAIM, fills: \.claimPaths.scope) {
        input throws(ConfigError) in try input.claimPath()
    }

    public static let require = Directive(GH_V1_REQUIRE, fills: \.rules, decidesAccess: true) {
        input throws(ConfigError) in
        guard case .list(let entries) = input.value else {
            throw input.fail("a list of \"PATTERN\" => \"EXPRESSION\" rules")
        }
        var rules = [(pattern: String, expression: String)]()
        for entry in entries {
            guard let key = entry.key, case .string(let expression) = entry.value else {
                throw input.fail("a list of \"PATTERN\" => \"EXPRESSION\" rules")
            }
            rules.append((key, expression))
        }
        do {
            return try RuleSet(rules)
        } catch {
            throw ConfigError("\(input.name): \(error)")
        }
    }

    public static let defaultRule = Directive(GH_V1_DEFAULT, fills: \.defaultRule, decidesAccess: true) {
        input throws(ConfigError) in
        guard case .string(let text) = input.value else {
            throw input.fail("an expression such as \"deny\" or \"authenticated\"")
        }
        do {
            return (text, try PolicyParser.parse(text))
        } catch {
            throw ConfigError("\(input.name): \(error)")
        }
    }

    public static let headers = Directive(GH_V1_HEADERS, fills: \.headers) { input throws(ConfigError) in
        try IdentityField.compile(input, asHeaders: true)
    }

    public static let stripHeaders = Directive(GH_V1_STRIP_HEADERS, fills: \.extraStrippedHeaders) {
        input throws(ConfigError) in
        let names = try input.strings(orFail: input.fail("a list of header names"))
        for header in names where !IdentityField.isHeaderName(header) {
            throw ConfigError("\(input.name): \"\(header)\" is not a valid header name")
        }
        return names
    }

    public static let env = Directive(GH_V1_ENV, fills: \.environment) { input throws(ConfigError) in
        try IdentityField.compile(input, asHeaders: false)
    }

    public static let realm = Directive(GH_V1_REALM, fills: \.realm) { input throws(ConfigError) in
        try input.quotable(orFail: input.fail("a non-empty string without quotes, backslashes or control characters"))
    }

    public static let hmacSecretFile = Directive(GH_V1_HMAC_SECRET_FILE, fills: \.hmacSecretFile) {
        input throws(ConfigError) in
        guard case .string(let path) = input.value, !path.isEmpty else {
            throw input.fail("the path of a file holding the shared secret")
        }
        return try input.keySource(path: path, isSecret: true)
    }

    public static let cacheSize = Directive(GH_V1_CACHE_SIZE, fills: \.cacheSize) { input throws(ConfigError) in
        Int(try input.wholeNumber(in: 0...10_000_000, expected: "a number of tokens from 0 to 10000000"))
    }

    public static let verifyThreads = Directive(GH_V1_VERIFY_THREADS, fills: \.verifyThreads) {
        input throws(ConfigError) in
        Int(try input.wholeNumber(in: 0...64, expected: "a number of threads from 0 (verify on the event loop) to 64"))
    }

    public static let verifyQueue = Directive(GH_V1_VERIFY_QUEUE, fills: \.verifyQueue) {
        input throws(ConfigError) in
        Int(try input.wholeNumber(in: 1...65_536, expected: "a number of tokens from 1 to 65536"))
    }

    public static let roleInherits = Directive(GH_V1_ROLE_INHERITS, fills: \.claimPaths.inheritance) {
        input throws(ConfigError) in
        let expected = "a list of ROLE => \"IMPLIED[, IMPLIED...]\" like ( \"admin\" => \"operator\" )"
        guard case .list(let entries) = input.value, !entries.isEmpty else { throw input.fail(expected) }
        var pairs = [(role: String, implied: [String])]()
        for entry in entries {
            guard let role = entry.key, !role.isEmpty, case .string(let text) = entry.value else {
                throw input.fail(expected)
            }
            let implied = text.split(separator: ",", omittingEmptySubsequences: false).map { name in
                String(name.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
            }
            guard !implied.isEmpty, implied.allSatisfy({ !$0.isEmpty }) else {
                throw ConfigError("\(input.name): \"\(role)\" => \"\(text)\": expected role names separated by commas")
            }
            pairs.append((role, implied))
        }
        return try RoleInheritance(pairs)
    }

    public static let mode = Directive(GH_V1_MODE, fills: \.reportOnly, decidesAccess: true) {
        input throws(ConfigError) in
        guard case .string(let text) = input.value, text == "enforce" || text == "report-only" else {
            throw input.fail("\"enforce\" or \"report-only\"")
        }
        return text == "report-only"
    }

    public static let corsPreflight = Directive(GH_V1_CORS_PREFLIGHT, fills: \.preflight, decidesAccess: true) {
        input throws(ConfigError) in
        try CORSPreflight.compile(input.value, name: input.name)
    }

    public static let tokenSources = Directive(GH_V1_TOKEN_SOURCES, fills: \.tokenSources) {
        input throws(ConfigError) in
        let names = try input.strings(
            orFail: input.fail("a list of \"header:Authorization\", \"header:NAME\", \"cookie:NAME\", \"query:NAME\""))
        var sources = [TokenSource]()
        for text in names {
            guard let source = TokenSource(text) else {
                throw ConfigError(
                    "\(input.name): \"\(text)\" is not a token source (expected \"header:Authorization\", "
                        + "\"header:NAME\", \"cookie:NAME\" or \"query:NAME\")")
            }
            if let earlier = sources.firstIndex(where: { $0.readsSamePlace(as: source) }) {
                throw ConfigError(
                    "\(input.name): \"\(names[earlier])\" and \"\(text)\" read the same place (names compare in "
                        + "any letter case, header names as a CGI backend sees them); list each source once")
            }
            sources.append(source)
        }
        return sources
    }

    public static let auditLog = Directive(GH_V1_AUDIT_LOG, fills: \.auditLog) { input throws(ConfigError) in
        guard case .string(let target) = input.value, !target.isEmpty, target != "|" else {
            throw input.fail("a file path, or \"|command\" to pipe the lines to a program")
        }
        // lighttpd opens the file only when it starts for real (not under -tt): check its folder now.
        if !target.hasPrefix("|"), !input.offline {
            let folder = target.lastIndex(of: "/").map { String(target[..<$0]) } ?? "."
            guard FileBytes.isFolder(folder.isEmpty ? "/" : folder) else {
                throw ConfigError(
                    "\(input.name): the folder \"\(folder)\" of \"\(target)\" does not exist (expected a file in "
                        + "an existing folder, or \"|command\" to pipe the lines to a program)")
            }
        }
        return target
    }

    public static let auditEvents = Directive(GH_V1_AUDIT_EVENTS, fills: \.auditsAll) { input throws(ConfigError) in
        guard case .string(let text) = input.value, text == "deny" || text == "all" else {
            throw input.fail("\"deny\" (refusals only) or \"all\"")
        }
        return text == "all"
    }

    public static let rateLimit = Directive(GH_V1_RATE_LIMIT, fills: \.rateLimits) { input throws(ConfigError) in
        let expected =
            "a list of METHODS => \"N/second|minute|hour|day\" like "
            + "( \"POST\" => \"30/minute\", \"*\" => \"600/minute\" )"
        guard case .list(let entries) = input.value, !entries.isEmpty else { throw input.fail(expected) }
        var limits = [RateLimiter.Limit]()
        for entry in entries {
            guard let methods = entry.key, case .string(let rate) = entry.value else { throw input.fail(expected) }
            do throws(ConfigError) {
                limits.append(try RateLimiter.Limit(methods: methods, rate: rate))
            } catch {
                throw ConfigError("\(input.name): entry \"\(methods)\" => \"\(rate)\": \(error.description)")
            }
        }
        return limits
    }

    public static let statusURL = Directive(GH_V1_STATUS_URL, fills: \.statusURL) { input throws(ConfigError) in
        // Compared with the request's path once lighttpd has decoded and normalised it.
        let expected =
            "a path of its own such as \"/gatehouse-status\" (not \"/\"; no \"//\", \".\" or \"..\" "
            + "segments, %-escapes or \"?\")"
        guard case .string(let path) = input.value, path.hasPrefix("/"), path != "/",
            path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "%") })
        else { throw input.fail(expected) }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard segments.dropLast().allSatisfy({ !$0.isEmpty }), segments.allSatisfy({ $0 != "." && $0 != ".." })
        else { throw input.fail(expected) }
        return path
    }

    public static let claimsSchema = Directive(GH_V1_CLAIMS_SCHEMA, fills: \.claimsSchema, decidesAccess: true) {
        input throws(ConfigError) in try ClaimsSchema.compile(input)
    }

    public static let pathChecks = Directive(GH_V1_PATH_CHECKS, fills: \.pathChecks) { input throws(ConfigError) in
        let known = PathChecks.names.map { "\"\($0.name)\"" }.joined(separator: ", ")
        if case .string("none") = input.value { return [] }
        let names = try input.strings(orFail: input.fail("a list of the checks to keep (\(known)), or \"none\""))
        var checks = PathChecks()
        for text in names {
            guard let check = PathChecks.names.first(where: { $0.name == text })?.check else {
                throw ConfigError("\(input.name): unknown check \"\(text)\" (expected some of \(known), or \"none\")")
            }
            checks.insert(check)
        }
        let off = PathChecks.names.filter { !checks.contains($0.check) }.map(\.name)
        if !off.isEmpty {
            input.warnings.append(
                "\(input.name): paths are not checked for \(off.joined(separator: ", ")) (see docs/security.md)")
        }
        return checks
    }
}

// Browser sign-in (docs/browser-sign-in.md): each fills a field of `Configuration.signIn`; SignInSettings
// holds how their values compile.
extension Directive {
    public static let login = Directive(GH_V1_LOGIN, fills: \.signIn.enabled) { input throws(ConfigError) in
        try SignInSettings.enabled(input)
    }

    public static let clientID = Directive(GH_V1_CLIENT_ID, fills: \.signIn.clientID) {
        input throws(ConfigError) in try SignInSettings.clientID(input)
    }

    public static let clientSecretFile = Directive(GH_V1_CLIENT_SECRET_FILE, fills: \.signIn.clientSecret) {
        input throws(ConfigError) in try SignInSettings.clientSecret(&input)
    }

    public static let tokenEndpointAuth = Directive(GH_V1_TOKEN_ENDPOINT_AUTH, fills: \.signIn.tokenEndpointAuth) {
        input throws(ConfigError) in try SignInSettings.tokenEndpointAuth(input)
    }

    public static let sessionKeyFile = Directive(GH_V1_SESSION_KEY_FILE, fills: \.signIn.keysFile) {
        input throws(ConfigError) in try SignInSettings.keysFile(&input)
    }

    public static let providerMetadata = Directive(GH_V1_PROVIDER_METADATA, fills: \.signIn.metadataFile) {
        input throws(ConfigError) in try SignInSettings.metadataFile(&input)
    }

    public static let loginScopes = Directive(GH_V1_LOGIN_SCOPES, fills: \.signIn.scopes) {
        input throws(ConfigError) in try SignInSettings.scopes(input)
    }

    public static let callbackPath = Directive(GH_V1_CALLBACK_PATH, fills: \.signIn.callbackPath) {
        input throws(ConfigError) in try SignInSettings.path(input)
    }

    public static let logoutPath = Directive(GH_V1_LOGOUT_PATH, fills: \.signIn.logoutPath) {
        input throws(ConfigError) in try SignInSettings.path(input)
    }

    public static let postLogoutRedirect = Directive(GH_V1_POST_LOGOUT_REDIRECT, fills: \.signIn.postLogoutRedirect) {
        input throws(ConfigError) in try SignInSettings.path(input, query: true)
    }

    public static let sessionLifetime = Directive(GH_V1_SESSION_LIFETIME, fills: \.signIn.lifetime) {
        input throws(ConfigError) in try SignInSettings.seconds(input, upTo: 30 * 86_400)
    }

    public static let sessionIdleTimeout = Directive(GH_V1_SESSION_IDLE_TIMEOUT, fills: \.signIn.idleTimeout) {
        input throws(ConfigError) in try SignInSettings.seconds(input, upTo: 30 * 86_400)
    }

    public static let signInWorkers = Directive(GH_V1_SIGN_IN_WORKERS, fills: \.signIn.workers) {
        input throws(ConfigError) in try SignInSettings.workers(input)
    }

    public static let signInTimeout = Directive(GH_V1_SIGN_IN_TIMEOUT, fills: \.signIn.timeout) {
        input throws(ConfigError) in try SignInSettings.seconds(input, upTo: 120)
    }

    public static let refreshBefore = Directive(GH_V1_REFRESH_BEFORE, fills: \.signIn.refreshBefore) {
        input throws(ConfigError) in try SignInSettings.refreshBefore(input)
    }
}
