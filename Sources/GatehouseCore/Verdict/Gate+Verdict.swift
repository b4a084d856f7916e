extension Gate {
    /// Turns the expression's truth into the verdict: the identity attached, the rate limits taken.
    static func verdict(
        _ truth: Expression.Truth, rule: ChosenRule, caller: Caller, request: HTTPRequest,
        configuration: Configuration, limiter: RateLimiter?, metrics: Metrics?, now: Int64,
        into decision: inout Decision
    ) {
        let realm = configuration.realm ?? (request.host.isEmpty ? "gatehouse" : request.host)

        // What the expression's truth means for the response:
        //
        //     expression  token     | outcome
        //     yes         any       | allow; identity attached when the token is valid
        //     no          valid     | 403 policy_denied (no_rule under gatehouse.default)
        //     no          not valid | 403 (the outcome does not depend on who asks: "deny")
        //     unknown     absent    | 401 no_token
        //     unknown     invalid   | 401 invalid_token
        //     unknown     valid, a claim of another type than declared | 403 claim_type_mismatch
        switch truth {
        case .yes:
            decision.diagnostics.explanation?.append("allowed")
            if let derived = caller.derived {
                do {
                    try attach(derived, to: &decision)
                } catch {
                    // The token is valid; what it says cannot travel safely. The administrator
                    // hears of it; the request goes on without identity where the rule needs none.
                    decision.diagnostics.problem = error.message
                    let anonymous = Expression.Context(identity: nil, captures: rule.captures, request: request)
                    var ignored: [String]?
                    if rule.expression.evaluate(anonymous, trace: &ignored) == .yes {
                        decision.effects.requestHeaders = []
                        decision.effects.environment = []
                        decision.diagnostics.explanation?.append("identity not attached: \(error.message)")
                    } else {
                        refuse(&decision, status: 403, error, realm: realm)
                    }
                }
            }
            if decision.verdict.status == 0, let limiter, !configuration.rateLimits.isEmpty {
                limit(
                    &decision, request: request, identity: caller.identity, configuration: configuration,
                    limiter: limiter, metrics: metrics, now: now)
            }
        case .no:
            decision.verdict.status = 403
            decision.verdict.reason = rule.rule == nil ? .noRule : .policyDenied
            decision.verdict.message = "the policy denies this request"
            if caller.identity != nil, !rule.expression.scopes.isEmpty {
                let scopes = rule.expression.scopes.joined(separator: " ")
                decision.verdict.wwwAuthenticate =
                    "Bearer realm=\"\(quoted(realm))\", error=\"insufficient_scope\", "
                    + "scope=\"\(quoted(scopes))\""
            }
            decision.diagnostics.explanation?.append("denied: \(decision.verdict.reason.rawValue)")
        case .unknown:
            let error = caller.tokenError ?? TokenError(.noToken, "no bearer token")
            refuse(&decision, status: error.code == .claimTypeMismatch ? 403 : 401, error, realm: realm)
        }
    }

    static func refuse(_ decision: inout Decision, status: Int, _ error: TokenError, realm: String) {
        decision.verdict.status = status
        decision.verdict.reason = error.code
        decision.verdict.message = error.message
        decision.effects.requestHeaders = []
        decision.effects.environment = []
        if error.code == .noToken {
            decision.verdict.wwwAuthenticate = "Bearer realm=\"\(quoted(realm))\""
        } else if status == 401 {
            decision.verdict.wwwAuthenticate =
                "Bearer realm=\"\(quoted(realm))\", error=\"invalid_token\", "
                + "error_description=\"\(quoted(error.message))\""
        }
        decision.diagnostics.explanation?.append("refused \(status): \(error.code.rawValue)")
    }
}
