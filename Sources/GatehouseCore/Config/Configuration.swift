/// The directives in force for one request: for each directive, the setting of the innermost
/// matching lighttpd condition (chosen by the shim, or by the CLI's condition evaluator), or
/// the default when none sets it.
public struct Configuration: Sendable {
    private var settings: [Setting?]

    public init() {
        settings = Array(repeating: nil, count: Directive.count)
    }

    public subscript(directive: Directive) -> Setting? {
        get { settings[directive.id] }
        set { settings[directive.id] = newValue }
    }

    /// `gatehouse.require`; nil: the module does nothing in this context.
    public var rules: RuleSet? {
        if case .rules(let rules)? = self[.require]?.value { return rules }
        return nil
    }

    public var defaultExpression: Expression {
        if case .expression(let expression)? = self[.defaultRule]?.value { return expression }
        return .deny
    }

    /// The keys of gatehouse.jwks and gatehouse.hmac-secret-file.
    public var keys: KeySet? {
        var sets = [KeySet]()
        for directive in [Directive.jwks, .hmacSecretFile] {
            if case .keys(let keys)? = self[directive]?.value { sets.append(keys) }
        }
        if sets.count < 2 { return sets.first }
        return KeySet(keys: sets.flatMap(\.keys))
    }

    /// gatehouse.cache-size: verified tokens kept per lighttpd process.
    public var cacheSize: Int {
        if case .count(let size)? = self[.cacheSize]?.value { return Int(size) }
        return 10_000
    }

    public var tokenRequirements: TokenRequirements {
        var requirements = TokenRequirements(issuers: [], audiences: [])
        if case .strings(let issuers)? = self[.issuer]?.value { requirements.issuers = issuers }
        if case .audiences(let audiences)? = self[.audience]?.value { requirements.audiences = audiences }
        if case .algorithms(let algorithms)? = self[.algorithms]?.value { requirements.algorithms = algorithms }
        if case .seconds(let leeway)? = self[.leeway]?.value { requirements.leeway = leeway }
        if case .seconds(let age)? = self[.maxTokenAge]?.value { requirements.maxTokenAge = age }
        if case .text(let type)? = self[.tokenType]?.value { requirements.tokenType = type }
        return requirements
    }

    public var claimNames: IdentityClaims {
        func path(_ directive: Directive) -> ClaimPath? {
            if case .claim(let path)? = self[directive]?.value { return path }
            return nil
        }
        var inheritance: RoleInheritance?
        if case .inheritance(let value)? = self[.roleInherits]?.value { inheritance = value }
        return IdentityClaims(roles: path(.rolesClaim), groups: path(.groupsClaim), scope: path(.scopeClaim),
                              inheritance: inheritance)
    }

    public var headers: [IdentityField] {
        if case .mapping(let fields)? = self[.headers]?.value { return fields }
        return IdentityField.defaultHeaders
    }

    public var environment: [IdentityField] {
        if case .mapping(let fields)? = self[.env]?.value { return fields }
        return IdentityField.defaultEnvironment
    }

    /// Request headers removed from every request in a context the module guards.
    public var strippedHeaders: [String] {
        var names = headers.map(\.name)
        if case .strings(let extra)? = self[.stripHeaders]?.value { names += extra }
        return names
    }

    /// gatehouse.mode = "report-only": decide and log, never refuse.
    public var reportOnly: Bool {
        if case .reportOnly(let value)? = self[.mode]?.value { return value }
        return false
    }

    public var realm: String? {
        if case .text(let realm)? = self[.realm]?.value { return realm }
        return nil
    }

    /// Cross-directive checks for a context: returns the problems, empty when it is consistent.
    public func problems() -> [String] {
        guard let rules else { return [] }
        let needsToken = rules.rules.contains { $0.expression.needsToken } || defaultExpression.needsToken
        guard needsToken else { return [] }
        var problems = [String]()
        let requirements = tokenRequirements
        if self[.jwks] == nil && self[.hmacSecretFile] == nil {
            problems.append("gatehouse.require has rules that need a token, but no keys are set (expected "
                            + "gatehouse.jwks: the identity provider's JWKS or PEM public key, "
                            + "or gatehouse.hmac-secret-file)")
        }
        if self[.issuer] == nil {
            problems.append("gatehouse.require has rules that need a token, but gatehouse.issuer is not set "
                            + "(expected the identity provider's \"iss\" value)")
        }
        if self[.audience] == nil {
            problems.append("gatehouse.require has rules that need a token, but gatehouse.audience is not set "
                            + "(expected this service's \"aud\" value, or \"*\" for any)")
        }
        if let keys {
            for algorithm in requirements.algorithms.sorted(by: { $0.rawValue < $1.rawValue })
            where algorithm.family == .hmac && !keys.keys.contains(where: { $0.accepts(algorithm) }) {
                problems.append("gatehouse.algorithms allows \(algorithm.rawValue), but no HMAC secret of at least "
                                + "\(algorithm.hashLength) bytes is configured (gatehouse.hmac-secret-file, "
                                + "or an \"oct\" key in gatehouse.jwks)")
            }
            let usable = requirements.algorithms.sorted { $0.rawValue < $1.rawValue }
                .filter { algorithm in keys.keys.contains { $0.accepts(algorithm) } }
            if usable.isEmpty {
                let listed = requirements.algorithms.map(\.rawValue).sorted().joined(separator: ", ")
                problems.append("no key of gatehouse.jwks or gatehouse.hmac-secret-file fits any algorithm of "
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

    public init(roles: ClaimPath? = nil, groups: ClaimPath? = nil, scope: ClaimPath? = nil,
                inheritance: RoleInheritance? = nil) {
        self.roles = roles
        self.groups = groups
        self.scope = scope
        self.inheritance = inheritance
    }
}
