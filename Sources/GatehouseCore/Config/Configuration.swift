/// The directives in force for one request: for each directive, the setting of the innermost
/// matching lighttpd condition (chosen by the shim, or by the CLI's condition evaluator), or
/// the default when none sets it. What decisions read is derived when a setting is set, so a
/// decision reads stored values only.
public struct Configuration: Sendable {
    private var settings: [Setting?]

    /// `gatehouse.require`; nil: the module does nothing in this context.
    public private(set) var rules: RuleSet?
    public private(set) var defaultExpression = Expression.deny
    /// The key files of gatehouse.jwks and gatehouse.hmac-secret-file.
    private var keySources: [KeySource] = []

    /// The keys in force now (a key file may have been reloaded since this was derived).
    public var keys: KeySet? {
        switch keySources.count {
        case 0: nil
        case 1: keySources[0].keys
        default: KeySet(keys: keySources.flatMap(\.keys.keys))
        }
    }
    /// gatehouse.cache-size: verified tokens kept per lighttpd process.
    public private(set) var cacheSize = 10_000
    public private(set) var tokenRequirements = TokenRequirements(issuers: [], audiences: [])
    public private(set) var claimNames = IdentityClaims()
    public private(set) var headers = IdentityField.defaultHeaders
    public private(set) var environment = IdentityField.defaultEnvironment
    /// Request headers removed from every request in a context the module guards.
    public private(set) var strippedHeaders = IdentityField.defaultHeaders.map(\.name)
    /// gatehouse.mode = "report-only": decide and log, never refuse.
    public private(set) var reportOnly = false
    /// gatehouse.cors-preflight: the module answers CORS preflights itself; nil ("deny"): they are
    /// decided like any request.
    public private(set) var preflight: CORSPreflight?
    /// gatehouse.path-checks: paths refused with 400 (all checks by default).
    public private(set) var pathChecks = PathChecks.all
    /// gatehouse.audit-log: a file, or `|command`; nil: no audit trail.
    public private(set) var auditLog: String?
    /// gatehouse.audit-events = "all" (else refusals only).
    public private(set) var auditsAll = false
    /// gatehouse.status-url: the path where the module answers with its counters.
    public private(set) var statusURL: String?
    /// gatehouse.rate-limit: every limit that applies to a request is taken from.
    public private(set) var rateLimits: [RateLimiter.Limit] = []
    /// gatehouse.token-sources, in order.
    public private(set) var tokenSources = [TokenSource.authorization]
    public private(set) var realm: String?
    /// gatehouse.login and the directives of browser sign-in.
    public private(set) var signIn = SignInSettings { _ in nil }

    public init() {
        settings = Array(repeating: nil, count: Directive.count)
    }

    public subscript(directive: Directive) -> Setting? {
        get { settings[directive.id] }
        set {
            settings[directive.id] = newValue
            derive()
        }
    }

    private mutating func derive() {
        func value(_ directive: Directive) -> Setting.Value? { settings[directive.id]?.value }
        rules = if case .rules(let rules)? = value(.require) { rules } else { nil }
        defaultExpression = if case .expression(let expression)? = value(.defaultRule) { expression } else { .deny }
        keySources = [Directive.jwks, .hmacSecretFile].compactMap { directive in
            if case .keys(let source)? = value(directive) { source } else { nil }
        }
        cacheSize = if case .count(let size)? = value(.cacheSize) { Int(size) } else { 10_000 }

        var requirements = TokenRequirements(issuers: [], audiences: [])
        if case .strings(let issuers)? = value(.issuer) { requirements.issuers = issuers }
        if case .audiences(let audiences)? = value(.audience) { requirements.audiences = audiences }
        if case .algorithms(let algorithms)? = value(.algorithms) { requirements.algorithms = algorithms }
        if case .seconds(let leeway)? = value(.leeway) { requirements.leeway = leeway }
        if case .seconds(let age)? = value(.maxTokenAge) { requirements.maxTokenAge = age }
        if case .text(let type)? = value(.tokenType) { requirements.tokenType = type }
        tokenRequirements = requirements

        func path(_ directive: Directive) -> ClaimPath? {
            if case .claim(let path)? = value(directive) { return path }
            return nil
        }
        var inheritance: RoleInheritance?
        if case .inheritance(let roles)? = value(.roleInherits) { inheritance = roles }
        claimNames = IdentityClaims(
            roles: path(.rolesClaim), groups: path(.groupsClaim), scope: path(.scopeClaim),
            inheritance: inheritance)

        headers = if case .mapping(let fields)? = value(.headers) { fields } else { IdentityField.defaultHeaders }
        environment = if case .mapping(let fields)? = value(.env) { fields } else { IdentityField.defaultEnvironment }
        strippedHeaders = headers.map(\.name)
        if case .strings(let extra)? = value(.stripHeaders) { strippedHeaders += extra }
        reportOnly = if case .reportOnly(let on)? = value(.mode) { on } else { false }
        preflight = if case .preflight(let answer)? = value(.corsPreflight) { answer } else { nil }
        pathChecks = if case .pathChecks(let checks)? = value(.pathChecks) { checks } else { .all }
        auditLog = if case .text(let target)? = value(.auditLog) { target } else { nil }
        auditsAll = if case .auditsAll(let all)? = value(.auditEvents) { all } else { false }
        statusURL = if case .text(let path)? = value(.statusURL) { path } else { nil }
        rateLimits = if case .limits(let limits)? = value(.rateLimit) { limits } else { [] }
        tokenSources = if case .sources(let sources)? = value(.tokenSources) { sources } else { [.authorization] }
        realm = if case .text(let text)? = value(.realm) { text } else { nil }
        signIn = SignInSettings { directive in if case .signIn(let v)? = value(directive) { v } else { nil } }
    }

    /// Cross-directive checks for a context: returns the problems, empty when it is consistent.
    public func problems() -> [String] {
        guard let rules else { return signIn.problems() }
        let needsToken = rules.rules.contains { $0.expression.needsToken } || defaultExpression.needsToken
        var problems = signIn.problems()
        guard needsToken else { return problems }
        let requirements = tokenRequirements
        if self[.jwks] == nil && self[.hmacSecretFile] == nil {
            problems.append(
                "gatehouse.require has rules that need a token, but no keys are set (expected "
                    + "gatehouse.jwks: the identity provider's JWKS or PEM public key, "
                    + "or gatehouse.hmac-secret-file)")
        }
        if self[.issuer] == nil {
            problems.append(
                "gatehouse.require has rules that need a token, but gatehouse.issuer is not set "
                    + "(expected the identity provider's \"iss\" value)")
        }
        if self[.audience] == nil {
            problems.append(
                "gatehouse.require has rules that need a token, but gatehouse.audience is not set "
                    + "(expected this service's \"aud\" value, or \"*\" for any)")
        }
        if let keys, !keySources.contains(where: { $0.unreadable != nil }) {
            for algorithm in requirements.algorithms.sorted(by: { $0.rawValue < $1.rawValue })
            where algorithm.family == .hmac && !keys.keys.contains(where: { $0.accepts(algorithm) }) {
                problems.append(
                    "gatehouse.algorithms allows \(algorithm.rawValue), but no HMAC secret of at least "
                        + "\(algorithm.hashLength) bytes is configured (gatehouse.hmac-secret-file, "
                        + "or an \"oct\" key in gatehouse.jwks)")
            }
            let usable = requirements.algorithms.sorted { $0.rawValue < $1.rawValue }
                .filter { algorithm in keys.keys.contains { $0.accepts(algorithm) } }
            if usable.isEmpty {
                let listed = requirements.algorithms.map(\.rawValue).sorted().joined(separator: ", ")
                problems.append(
                    "no key of gatehouse.jwks or gatehouse.hmac-secret-file fits any algorithm of "
                        + "gatehouse.algorithms (\(listed))")
            }
        }
        return problems
    }
}

/// Where roles, groups and scopes are read from (nil: the defaults), and what roles imply.
public struct IdentityClaims: Sendable {
    public var roles: ClaimPath?
    public var groups: ClaimPath?
    public var scope: ClaimPath?
    public var inheritance: RoleInheritance?

    public init(
        roles: ClaimPath? = nil, groups: ClaimPath? = nil, scope: ClaimPath? = nil,
        inheritance: RoleInheritance? = nil
    ) {
        self.roles = roles
        self.groups = groups
        self.scope = scope
        self.inheritance = inheritance
    }

    /// The usual names of the claims that hold roles, groups and scopes.
    private static let usualListClaims = ["roles", "groups", "scope", "scp"]

    /// Whether a claim is one Gatehouse reads as a list of names: the roles, groups and scope
    /// claims configured, and their usual names whatever is configured.
    func readsAsList(_ path: ClaimPath) -> Bool {
        if path.components.count == 1, IdentityClaims.usualListClaims.contains(path.components[0]) { return true }
        return [roles, groups, scope].contains { $0?.components == path.components }
    }
}
