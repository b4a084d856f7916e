/// The directives in force for one request: for each directive, the setting of the innermost
/// matching lighttpd condition (chosen by the shim, or by the CLI's condition evaluator), or
/// the default when none sets it. Each setting fills its directive's field when it is set, so a
/// decision reads stored values only.
public struct Configuration: Sendable {
    /// What is in force where no directive is set: the value each directive's field starts from.
    static let unset = Configuration()

    private var settings: [Setting?]

    /// `gatehouse.require`; nil: the module does nothing in this context.
    public internal(set) var rules: RuleSet? { didSet { updateClaimNames() } }
    /// gatehouse.default, as written and compiled.
    public internal(set) var defaultRule: (source: String, expression: Expression) = ("deny", .deny) {
        didSet { updateClaimNames() }
    }
    public var defaultExpression: Expression { defaultRule.expression }
    /// gatehouse.jwks and gatehouse.hmac-secret-file: the key files.
    public internal(set) var jwks: KeySource? { didSet { updateKeySources() } }
    public internal(set) var hmacSecretFile: KeySource? { didSet { updateKeySources() } }
    public private(set) var keySources: [KeySource] = []

    /// The keys in force now (a key file may have been reloaded since this was built).
    public var keys: KeySet? {
        switch keySources.count {
        case 0: nil
        case 1: keySources[0].keys
        default: KeySet(keys: keySources.flatMap(\.keys.keys))
        }
    }
    /// gatehouse.cache-size: verified tokens kept per lighttpd process.
    public internal(set) var cacheSize = 10_000
    /// gatehouse.verify-threads: threads per lighttpd process that verify the signatures of tokens
    /// not in the cache; 0 verifies them on the event loop; nil: as many as the CPUs the process
    /// may run on, at most 4, and 0 on one CPU.
    public internal(set) var verifyThreads: Int?
    /// gatehouse.verify-queue: tokens waiting for (or in) a verify thread per process; past it, 503.
    public internal(set) var verifyQueue = 256
    public internal(set) var tokenRequirements = TokenRequirements(issuers: [], audiences: [])
    public internal(set) var claimPaths = ClaimPaths() { didSet { updateIdentitySettings() } }
    /// gatehouse.claims-schema: the types of the claims it names; nil: no claim's type is checked.
    public internal(set) var claimsSchema: ClaimsSchema? { didSet { updateIdentitySettings() } }
    public internal(set) var headers = IdentityField.defaultHeaders {
        didSet {
            updateStrippedHeaders()
            updateIdentitySettings()
        }
    }
    public internal(set) var environment = IdentityField.defaultEnvironment { didSet { updateIdentitySettings() } }
    /// claimPaths, claimsSchema, headers and environment as one object, made again when one of them changes.
    public private(set) var identitySettings = IdentitySettings(
        claimPaths: ClaimPaths(), claimsSchema: nil, headers: IdentityField.defaultHeaders,
        environment: IdentityField.defaultEnvironment)
    /// gatehouse.strip-headers: removed besides the headers of gatehouse.headers.
    public internal(set) var extraStrippedHeaders: [String] = [] { didSet { updateStrippedHeaders() } }
    /// Request headers removed from every request in a context the module guards.
    public private(set) var strippedHeaders = IdentityField.defaultHeaders.map(\.name)
    /// gatehouse.mode = "report-only": decide and log, never refuse.
    public internal(set) var reportOnly = false
    /// gatehouse.cors-preflight: the module answers CORS preflights itself; nil ("deny"): they are
    /// decided like any request.
    public internal(set) var preflight: CORSPreflight?
    /// gatehouse.path-checks: paths refused with 400 (all checks by default).
    public internal(set) var pathChecks = PathChecks.all
    /// gatehouse.audit-log: a file, or `|command`; nil: no audit trail.
    public internal(set) var auditLog: String? { didSet { updateClaimNames() } }
    /// gatehouse.audit-events = "all" (else refusals only).
    public internal(set) var auditsAll = false
    /// gatehouse.status-url: the path where the module answers with its counters.
    public internal(set) var statusURL: String?
    /// gatehouse.rate-limit: every limit that applies to a request is taken from.
    public internal(set) var rateLimits: [RateLimiter.Limit] = [] { didSet { updateClaimNames() } }
    /// gatehouse.token-sources, in order.
    public internal(set) var tokenSources = [TokenSource.authorization] {
        didSet { tokenHeaders = tokenSources.compactMap(\.headerName) }
    }
    /// The request headers of tokenSources (made once, not per request).
    public private(set) var tokenHeaders = ["Authorization"]
    public internal(set) var realm: String?
    /// gatehouse.login and the directives of browser sign-in.
    public internal(set) var signIn = SignInSettings()

    public init() {
        settings = Array(repeating: nil, count: Directive.count)
    }

    private mutating func updateKeySources() {
        keySources = [jwks, hmacSecretFile].compactMap { $0 }
    }

    private mutating func updateIdentitySettings() {
        identitySettings = IdentitySettings(
            claimPaths: claimPaths, claimsSchema: claimsSchema, headers: headers, environment: environment)
        updateClaimNames()
    }

    /// The claims a token verified for this context keeps: what its rules, identity settings, audit
    /// log and rate limits read.
    private mutating func updateClaimNames() {
        tokenRequirements.claims = ClaimNames(
            settings: identitySettings, expressions: (rules?.rules.map(\.expression) ?? []) + [defaultRule.expression],
            audited: auditLog != nil, limited: !rateLimits.isEmpty)
    }

    private mutating func updateStrippedHeaders() {
        strippedHeaders = headers.map(\.name) + extraStrippedHeaders
    }

    /// The setting of `directive` in force; setting one fills its field, removing one puts the field
    /// back to its unset value.
    public subscript(directive: Directive) -> Setting? {
        get { settings[directive.id] }
        set {
            settings[directive.id] = newValue
            if let newValue { newValue.apply(to: &self) } else { directive.unset(in: &self) }
        }
    }

    /// Cross-directive checks for a context: returns the problems, empty when it is consistent.
    public func problems() -> [String] {
        guard let rules else { return signIn.problems() }
        let needsToken = rules.rules.contains { $0.expression.needsToken } || defaultExpression.needsToken
        var problems = signIn.problems()
        if let claimsSchema {
            // (an error's lines: the message, then the expression and a caret under the column)
            problems += rules.typeErrors(claimsSchema).map { "gatehouse.require: \($0)" }
            do {
                _ = try PolicyParser.parse(defaultRule.source, schema: claimsSchema)
            } catch {
                problems.append("gatehouse.default: \(error)")
            }
        }
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
