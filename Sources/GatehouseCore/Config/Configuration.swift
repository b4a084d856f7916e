/// The directives in force for one request: for each directive, the setting of the innermost
/// matching lighttpd condition (chosen by the shim, or by the CLI's condition evaluator), or
/// the default when none sets it. Each setting fills its directive's field when it is set, so a
/// decision reads stored values only.
///
/// A value whose fields live in one immutable box: a copy (a request's, each step's) is one
/// reference, not one per field, and reading a field reads that field only; changing one (while the
/// settings are compiled) makes a new box.
public struct Configuration: Sendable {
    /// What is in force where no directive is set: the value each directive's field starts from.
    static let unset = Configuration()

    private final class Box: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }
    private var box = Box(Fields())

    private mutating func change(_ body: (inout Fields) -> Void) {
        var fields = box.fields
        body(&fields)
        box = Box(fields)
    }

    /// The stored fields, and the ones made from others when those change.
    private struct Fields: Sendable {
        var settings = [Setting?](repeating: nil, count: Directive.count)
        var rules: RuleSet? { didSet { updateClaimNames() } }
        var defaultRule: (source: String, expression: Expression) = ("deny", .deny) { didSet { updateClaimNames() } }
        var jwks: KeySource? { didSet { updateKeySources() } }
        var hmacSecretFile: KeySource? { didSet { updateKeySources() } }
        var keySources: [KeySource] = []
        var cacheSize = 10_000
        var verifyThreads: Int?
        var verifyQueue = 256
        var tokenRequirements = TokenRequirements(issuers: [], audiences: [])
        var claimPaths = ClaimPaths() { didSet { updateIdentitySettings() } }
        var claimsSchema: ClaimsSchema? { didSet { updateIdentitySettings() } }
        var headers = IdentityField.defaultHeaders {
            didSet {
                updateStrippedHeaders()
                updateIdentitySettings()
            }
        }
        var environment = IdentityField.defaultEnvironment { didSet { updateIdentitySettings() } }
        var identitySettings = IdentitySettings(
            claimPaths: ClaimPaths(), claimsSchema: nil, headers: IdentityField.defaultHeaders,
            environment: IdentityField.defaultEnvironment)
        var extraStrippedHeaders: [String] = [] { didSet { updateStrippedHeaders() } }
        var strippedHeaders = IdentityField.defaultHeaders.map(\.name)
        var reportOnly = false
        var preflight: CORSPreflight?
        var pathChecks = PathChecks.all
        var auditLog: String? { didSet { updateClaimNames() } }
        var auditsAll = false
        var statusURL: String?
        var rateLimits: [RateLimiter.Limit] = [] { didSet { updateClaimNames() } }
        var tokenSources = [TokenSource.authorization] {
            didSet { tokenHeaders = tokenSources.compactMap(\.headerName) }
        }
        var tokenHeaders = ["Authorization"]
        var realm: String?
        var signIn = SignInSettings()

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
                settings: identitySettings,
                expressions: (rules?.rules.map(\.expression) ?? []) + [defaultRule.expression],
                audited: auditLog != nil, limited: !rateLimits.isEmpty)
        }

        private mutating func updateStrippedHeaders() {
            strippedHeaders = headers.map(\.name) + extraStrippedHeaders
        }
    }

    /// `gatehouse.require`; nil: the module does nothing in this context.
    public internal(set) var rules: RuleSet? {
        get { box.fields.rules }
        set { change { $0.rules = newValue } }
    }
    /// gatehouse.default, as written and compiled.
    public internal(set) var defaultRule: (source: String, expression: Expression) {
        get { box.fields.defaultRule }
        set { change { $0.defaultRule = newValue } }
    }
    public var defaultExpression: Expression { box.fields.defaultRule.expression }
    /// gatehouse.jwks and gatehouse.hmac-secret-file: the key files.
    public internal(set) var jwks: KeySource? {
        get { box.fields.jwks }
        set { change { $0.jwks = newValue } }
    }
    public internal(set) var hmacSecretFile: KeySource? {
        get { box.fields.hmacSecretFile }
        set { change { $0.hmacSecretFile = newValue } }
    }
    public var keySources: [KeySource] { box.fields.keySources }

    /// The keys in force now (a key file may have been reloaded since this was built).
    public var keys: KeySet? {
        let sources = box.fields.keySources
        switch sources.count {
        case 0: return nil
        case 1: return sources[0].keys
        default: return KeySet(keys: sources.flatMap(\.keys.keys))
        }
    }
    /// gatehouse.cache-size: verified tokens kept per lighttpd process.
    public internal(set) var cacheSize: Int {
        get { box.fields.cacheSize }
        set { change { $0.cacheSize = newValue } }
    }
    /// gatehouse.verify-threads: threads per lighttpd process that verify the signatures of tokens
    /// not in the cache; 0 verifies them on the event loop; nil: as many as the CPUs the process
    /// may run on, at most 4, and 0 on one CPU.
    public internal(set) var verifyThreads: Int? {
        get { box.fields.verifyThreads }
        set { change { $0.verifyThreads = newValue } }
    }
    /// gatehouse.verify-queue: tokens waiting for (or in) a verify thread per process; past it, 503.
    public internal(set) var verifyQueue: Int {
        get { box.fields.verifyQueue }
        set { change { $0.verifyQueue = newValue } }
    }
    public internal(set) var tokenRequirements: TokenRequirements {
        get { box.fields.tokenRequirements }
        set { change { $0.tokenRequirements = newValue } }
    }
    public internal(set) var claimPaths: ClaimPaths {
        get { box.fields.claimPaths }
        set { change { $0.claimPaths = newValue } }
    }
    /// gatehouse.claims-schema: the types of the claims it names; nil: no claim's type is checked.
    public internal(set) var claimsSchema: ClaimsSchema? {
        get { box.fields.claimsSchema }
        set { change { $0.claimsSchema = newValue } }
    }
    public internal(set) var headers: [IdentityField] {
        get { box.fields.headers }
        set { change { $0.headers = newValue } }
    }
    public internal(set) var environment: [IdentityField] {
        get { box.fields.environment }
        set { change { $0.environment = newValue } }
    }
    /// claimPaths, claimsSchema, headers and environment as one object, made again when one of them changes.
    public var identitySettings: IdentitySettings { box.fields.identitySettings }
    /// gatehouse.strip-headers: removed besides the headers of gatehouse.headers.
    public internal(set) var extraStrippedHeaders: [String] {
        get { box.fields.extraStrippedHeaders }
        set { change { $0.extraStrippedHeaders = newValue } }
    }
    /// Request headers removed from every request in a context the module guards.
    public var strippedHeaders: [String] { box.fields.strippedHeaders }
    /// gatehouse.mode = "report-only": decide and log, never refuse.
    public internal(set) var reportOnly: Bool {
        get { box.fields.reportOnly }
        set { change { $0.reportOnly = newValue } }
    }
    /// gatehouse.cors-preflight: the module answers CORS preflights itself; nil ("deny"): they are
    /// decided like any request.
    public internal(set) var preflight: CORSPreflight? {
        get { box.fields.preflight }
        set { change { $0.preflight = newValue } }
    }
    /// gatehouse.path-checks: paths refused with 400 (all checks by default).
    public internal(set) var pathChecks: PathChecks {
        get { box.fields.pathChecks }
        set { change { $0.pathChecks = newValue } }
    }
    /// gatehouse.audit-log: a file, or `|command`; nil: no audit trail.
    public internal(set) var auditLog: String? {
        get { box.fields.auditLog }
        set { change { $0.auditLog = newValue } }
    }
    /// gatehouse.audit-events = "all" (else refusals only).
    public internal(set) var auditsAll: Bool {
        get { box.fields.auditsAll }
        set { change { $0.auditsAll = newValue } }
    }
    /// gatehouse.status-url: the path where the module answers with its counters.
    public internal(set) var statusURL: String? {
        get { box.fields.statusURL }
        set { change { $0.statusURL = newValue } }
    }
    /// gatehouse.rate-limit: every limit that applies to a request is taken from.
    public internal(set) var rateLimits: [RateLimiter.Limit] {
        get { box.fields.rateLimits }
        set { change { $0.rateLimits = newValue } }
    }
    /// gatehouse.token-sources, in order.
    public internal(set) var tokenSources: [TokenSource] {
        get { box.fields.tokenSources }
        set { change { $0.tokenSources = newValue } }
    }
    /// The request headers of tokenSources (made once, not per request).
    public var tokenHeaders: [String] { box.fields.tokenHeaders }
    public internal(set) var realm: String? {
        get { box.fields.realm }
        set { change { $0.realm = newValue } }
    }
    /// gatehouse.login and the directives of browser sign-in.
    public internal(set) var signIn: SignInSettings {
        get { box.fields.signIn }
        set { change { $0.signIn = newValue } }
    }

    public init() {}

    /// The setting of `directive` in force; setting one fills its field, removing one puts the field
    /// back to its unset value.
    public subscript(directive: Directive) -> Setting? {
        get { box.fields.settings[directive.id] }
        set {
            change { $0.settings[directive.id] = newValue }
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
