/// Decides requests: screen → preflight → rule → token → expression → identity
/// (docs/policy.md, "How a request is decided").
public enum Gate {
    /// Decides `request` under `configuration` at Unix time `now`; nil when the configuration
    /// has no `gatehouse.require` (the module does nothing there).
    /// `presented`: claims taken as already verified instead of a token from the request
    /// (`gatehouse check --claims`, for testing policies without keys).
    public static func decide(
        _ request: HTTPRequest, configuration: Configuration, now: Int64,
        cache: TokenCache? = nil, limiter: RateLimiter? = nil, metrics: Metrics? = nil, explain: Bool = true,
        presented: JSONObject? = nil
    ) -> Decision? {
        guard let rules = configuration.rules else { return nil }
        var decision = Decision(
            status: 0, reason: .allowed, rule: "gatehouse.default",
            stripHeaders: configuration.strippedHeaders, explanation: explain ? [] : nil)
        decision.stripAliases = configuration.tokenSources.compactMap(\.headerName)
        if let refusal = screen(request, configuration: configuration, into: &decision) {
            refuse(&decision, status: 400, refusal, realm: "")
            reportOnly(&decision, configuration: configuration)
            return decision
        }
        if let preflight = configuration.preflight, CORSPreflight.isPreflight(request) {
            answer(preflight, request, rules: rules, configuration: configuration, limiter: limiter,
                   metrics: metrics, now: now, into: &decision)
            if decision.status != 204 { reportOnly(&decision, configuration: configuration) }
            return decision
        }
        // A request lighttpd serves under another path (a rewrite, an error handler) is decided on
        // the path the client asked for too: refused if either is.
        if let original = request.originalPathBytes, original != request.pathBytes {
            var asSent = request
            asSent.pathBytes = original
            asSent.originalPathBytes = nil
            decision.explanation?.append("the client asked for \(asSent.path); lighttpd serves \(request.path)")
            judge(asSent, rules: rules, configuration: configuration, now: now, cache: cache, limiter: nil,
                  metrics: metrics, presented: presented, into: &decision)
            if decision.status != 0 || decision.wouldRefuse != nil { return decision }
            decision.requestHeaders = []
            decision.environment = []
            decision.explanation?.append("then \(request.path):")
        }
        judge(request, rules: rules, configuration: configuration, now: now, cache: cache, limiter: limiter,
              metrics: metrics, presented: presented, into: &decision)
        return decision
    }

    /// Why the request is refused before any rule: a path a backend would read as another, or
    /// two headers that CGI reads as one token header.
    private static func screen(_ request: HTTPRequest, configuration: Configuration, into decision: inout Decision)
        -> TokenError?
    {
        for path in [request.pathBytes, request.originalPathBytes].compactMap({ $0 }) {
            if let problem = configuration.pathChecks.problem(in: path) {
                return TokenError(.unsafePath, problem + " (gatehouse.path-checks)")
            }
        }
        for name in decision.stripAliases where request.headerCount(name) > 1 {
            return TokenError(.ambiguousHeader, "two request headers that CGI reads as \(name)")
        }
        return nil
    }

    /// A CORS preflight, answered by the module: 204 with the Access-Control-Allow-* headers;
    /// 403 on a path whose rule denies the method asked about whoever asks, or from an origin
    /// or for a method not listed; 429 over a rate limit.
    private static func answer(
        _ preflight: CORSPreflight, _ request: HTTPRequest, rules: RuleSet, configuration: Configuration,
        limiter: RateLimiter?, metrics: Metrics?, now: Int64, into decision: inout Decision
    ) {
        decision.rule = "gatehouse.cors-preflight"
        let origin = request.header("Origin") ?? ""
        let method = request.header("Access-Control-Request-Method") ?? ""
        var asked = request
        asked.method = method
        let path = request.lowercasePaths ? lowerCased(request.pathBytes) : request.pathBytes
        var methodBytes = method
        let selection = methodBytes.withUTF8 { m in
            path.withUnsafeBufferPointer { p in rules.select(method: m, path: p, foldingCase: request.lowercasePaths) }
        }
        let expression = selection?.rule.expression ?? configuration.defaultExpression
        let context = Expression.Context(identity: nil, captures: selection?.captures ?? [], request: asked)
        var ignored: [String]?
        if expression.evaluate(context, trace: &ignored) == .no {
            refuse(&decision, status: 403, TokenError(.policyDenied, "the policy denies \(method) here to anyone"),
                   realm: "")
            return
        }
        switch preflight.answer(origin: origin, method: method) {
        case .failure(let error):
            refuse(&decision, status: 403, error, realm: "")
        case .success(let fields):
            if let limiter {
                limit(&decision, request: request, identity: nil, configuration: configuration, limiter: limiter,
                      metrics: metrics, now: now)
            }
            guard decision.status == 0 else { return }
            decision.status = 204
            decision.responseHeaders = fields
            decision.explanation?.append("a CORS preflight, answered by gatehouse.cors-preflight")
        }
    }

    /// Under gatehouse.mode = "report-only", a refusal is logged and the request let through.
    private static func reportOnly(_ decision: inout Decision, configuration: Configuration) {
        guard configuration.reportOnly, decision.status != 0 else { return }
        decision.explanation?.append("report-only: let through instead of \(decision.status)")
        decision.wouldRefuse = decision.status
        decision.status = 0
        decision.wwwAuthenticate = nil
        decision.responseHeaders = []
    }

    /// The path as a server that folds case serves it: ASCII letters in lower case.
    private static func lowerCased(_ path: [UInt8]) -> [UInt8] {
        path.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
    }

    /// Chooses the rule for `request`, verifies its token and evaluates the rule into `decision`.
    private static func judge(
        _ request: HTTPRequest, rules: RuleSet, configuration: Configuration, now: Int64,
        cache: TokenCache?, limiter: RateLimiter?, metrics: Metrics?, presented: JSONObject?,
        into decision: inout Decision
    ) {
        let expression: Expression
        var selected: Rule?
        var captures = [(name: String, value: String)]()
        var method = request.method
        let path = request.lowercasePaths ? lowerCased(request.pathBytes) : request.pathBytes
        let explain = decision.explanation != nil
        if let match = method.withUTF8({ m in
            path.withUnsafeBufferPointer { p in
                rules.select(method: m, path: p, explain: explain, foldingCase: request.lowercasePaths)
            }
        }) {
            selected = match.rule
            captures = match.captures
            expression = match.rule.expression
            decision.rule = match.rule.pattern.description
            decision.explanation?.append(
                "rule \"\(match.rule.pattern)\" => \"\(expression)\" is the most specific match"
                    + (match.outranked.isEmpty
                        ? ""
                        : " (over "
                            + match.outranked.map { "\"\($0.pattern)\"" }
                            .joined(separator: ", ") + ")")
                    + (captures.isEmpty
                        ? ""
                        : "; "
                            + captures.map { "path.\($0.name) = '\($0.value)'" }
                            .joined(separator: ", ")))
        } else {
            expression = configuration.defaultExpression
            decision.explanation?.append(
                "no rule matches \(request.method) \(request.path); gatehouse.default is \"\(expression)\"")
        }

        // The token: absent, invalid (with why), or verified.
        var tokenError: TokenError?
        var identity: Identity?
        let claims =
            presented.map { Result<JSONObject?, TokenError>.success($0) }
            ?? verifiedToken(request, configuration: configuration, now: now, cache: cache, metrics: metrics,
                             into: &decision)
            .map { $0?.claims }
        switch claims {
        case .success(let claims?):
            identity = Identity(claims: claims, names: configuration.claimPaths)
            decision.claims = claims
            decision.explanation?.append(
                (presented == nil ? "token verified" : "claims given, not verified")
                    + ": sub " + (identity?.subject.map { "\"\($0)\"" } ?? "absent"))
        case .success(nil): break
        case .failure(let error): tokenError = error
        }
        if let tokenError {
            decision.explanation?.append("token refused: \(tokenError.code.rawValue): \(tokenError.message)")
        }

        let context = Expression.Context(identity: identity, captures: captures, request: request)
        let truth = expression.evaluate(context, trace: &decision.explanation)
        let realm = configuration.realm ?? (request.host.isEmpty ? "gatehouse" : request.host)

        // What the expression's truth means for the response:
        //
        //     expression  token     | outcome
        //     yes         any       | allow; identity attached when the token is valid
        //     no          valid     | 403 policy_denied (no_rule under gatehouse.default)
        //     no          not valid | 403 (the outcome does not depend on who asks: "deny")
        //     unknown     absent    | 401 no_token
        //     unknown     invalid   | 401 invalid_token
        switch truth {
        case .yes:
            decision.explanation?.append("allowed")
            if let identity {
                do {
                    try attach(identity, to: &decision, configuration: configuration)
                } catch {
                    // The token is valid; what it says cannot travel safely. The administrator
                    // hears of it; the request goes on without identity where the rule needs none.
                    decision.problem = error.message
                    let anonymous = Expression.Context(identity: nil, captures: captures, request: request)
                    var ignored: [String]?
                    if expression.evaluate(anonymous, trace: &ignored) == .yes {
                        decision.requestHeaders = []
                        decision.environment = []
                        decision.explanation?.append("identity not attached: \(error.message)")
                    } else {
                        refuse(&decision, status: 403, error, realm: realm)
                    }
                }
            }
            if decision.status == 0, let limiter, !configuration.rateLimits.isEmpty {
                limit(&decision, request: request, identity: identity, configuration: configuration,
                      limiter: limiter, metrics: metrics, now: now)
            }
        case .no:
            decision.status = 403
            decision.reason = selected == nil ? .noRule : .policyDenied
            decision.message = "the policy denies this request"
            if identity != nil, !expression.scopes.isEmpty {
                let scopes = expression.scopes.joined(separator: " ")
                decision.wwwAuthenticate =
                    "Bearer realm=\"\(quoted(realm))\", error=\"insufficient_scope\", "
                    + "scope=\"\(quoted(scopes))\""
            }
            decision.explanation?.append("denied: \(decision.reason.rawValue)")
        case .unknown:
            refuse(&decision, status: 401, tokenError ?? TokenError(.noToken, "no bearer token"), realm: realm)
        }
        reportOnly(&decision, configuration: configuration)
    }

    /// The request's bearer token, verified: nil when it has none.
    private static func verifiedToken(
        _ request: HTTPRequest, configuration: Configuration, now: Int64,
        cache: TokenCache?, metrics: Metrics?, into decision: inout Decision
    ) -> Result<VerifiedToken?, TokenError> {
        switch TokenSource.token(in: request, from: configuration.tokenSources) {
        case .failure(let error): return .failure(error)
        case .success(nil): return .success(nil)
        case .success(let token?):
            decision.token = token
            guard let keys = configuration.keys else {
                return .failure(TokenError(.unknownKey, "no keys are configured (gatehouse.jwks)"))
            }
            let verify = {
                TokenVerifier.verify(token, keys: keys, requirements: configuration.tokenRequirements, now: now,
                                     cache: cache)
            }
            return (metrics?.timeVerification(verify) ?? verify()).map { $0 }
        }
    }

    private static func refuse(_ decision: inout Decision, status: Int, _ error: TokenError, realm: String) {
        decision.status = status
        decision.reason = error.code
        decision.message = error.message
        decision.requestHeaders = []
        decision.environment = []
        if error.code == .noToken {
            decision.wwwAuthenticate = "Bearer realm=\"\(quoted(realm))\""
        } else if status == 401 {
            decision.wwwAuthenticate =
                "Bearer realm=\"\(quoted(realm))\", error=\"invalid_token\", "
                + "error_description=\"\(quoted(error.message))\""
        }
        decision.explanation?.append("refused \(status): \(error.code.rawValue)")
    }

    /// Takes the request from each of the caller's buckets that applies; over a limit: 429
    /// with `Retry-After` and the `RateLimit-*` fields of draft-ietf-httpapi-ratelimit-headers.
    private static func limit(
        _ decision: inout Decision, request: HTTPRequest, identity: Identity?, configuration: Configuration,
        limiter: RateLimiter, metrics: Metrics?, now: Int64
    ) {
        // Subjects are unique per issuer only (OpenID Connect Core §2): the issuer is part of
        // the caller, its length first so that no issuer and subject can make another pair.
        let issuer = identity?.claims["iss"]?.stringValue ?? ""
        let caller = identity?.subject.map { "sub:\(issuer.utf8.count):\(issuer)\($0)" } ?? "ip:" + request.remoteIP
        for limit in configuration.rateLimits where limit.applies(to: request.method) {
            guard let wait = limiter.take(limit, caller: caller, now: now, metrics: metrics) else { continue }
            decision.status = 429
            decision.reason = .rateLimited
            decision.message = "over the rate limit \(limit.description)"
            decision.requestHeaders = []
            decision.environment = []
            decision.responseHeaders = [
                ("Retry-After", String(wait)), ("RateLimit-Limit", String(limit.requests)),
                ("RateLimit-Remaining", "0"), ("RateLimit-Reset", String(wait)),
            ]
            decision.explanation?.append("refused 429: over \(limit.description) for \(caller)")
            return
        }
    }

    private static func attach(
        _ identity: Identity, to decision: inout Decision,
        configuration: Configuration
    ) throws(TokenError) {
        let names = configuration.claimPaths
        for field in configuration.headers {
            if let value = try field.render(from: identity.claims, isList: names.readsAsList(field.claim)) {
                decision.requestHeaders.append((field.name, value))
            }
        }
        for field in configuration.environment {
            if let value = try field.render(from: identity.claims, isList: names.readsAsList(field.claim)) {
                decision.environment.append((field.name, value))
            }
        }
        decision.environment.append(("AUTH_TYPE", "Bearer"))
    }

    /// Makes text safe inside an HTTP quoted-string: no quote, backslash or control character.
    static func quoted(_ text: String) -> String {
        String(decoding: text.utf8.filter { $0 >= 0x20 && $0 != 0x7F && $0 != 0x22 && $0 != 0x5C }, as: UTF8.self)
    }
}
