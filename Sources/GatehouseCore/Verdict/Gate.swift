/// Decides requests, one step after the other (docs/architecture.md, "How a request flows";
/// docs/policy.md, "How a request is decided"): screen → preflight → rule → authenticate → evaluate
/// → verdict (attach identity, limit) → mode. Each step is a file of its own in this folder.
public enum Gate {
    /// Decides `request` under `configuration` at Unix time `now`; nil when the configuration
    /// has no `gatehouse.require` (the module does nothing there).
    /// `presented`: claims taken as already verified instead of a token from the request (an
    /// opened session cookie's; `gatehouse check --claims`, for testing policies without keys).
    /// `coverage`: records what the rules exercised (`gatehouse test --coverage`). `offLoop`: a
    /// token the cache does not hold is verified by a worker thread, and the decision waits for it
    /// (`Decision.awaiting`).
    public static func decide(
        _ request: HTTPRequest, configuration: Configuration, now: Int64,
        cache: TokenCache? = nil, limiter: RateLimiter? = nil, metrics: Metrics? = nil, explain: Bool = true,
        presented: VerifiedClaims? = nil, coverage: Coverage? = nil, offLoop: OffLoopVerification? = nil
    ) -> Decision? {
        guard let rules = configuration.rules else { return nil }
        var decision = Decision(
            verdict: Verdict(), effects: Effects(stripHeaders: configuration.strippedHeaders),
            diagnostics: Diagnostics(explanation: explain ? [] : nil, coverage: coverage))
        decision.effects.stripAliases = configuration.tokenHeaders
        if let refusal = screen(request, configuration: configuration, into: &decision) {
            refuse(&decision, status: 400, refusal, realm: "")
            mode(&decision, configuration: configuration)
            return decision
        }
        if let preflight = configuration.preflight, CORSPreflight.isPreflight(request) {
            answer(
                preflight, request, rules: rules, configuration: configuration, limiter: limiter,
                metrics: metrics, now: now, into: &decision)
            if decision.verdict.status != 204 { mode(&decision, configuration: configuration) }
            return decision
        }
        // A request lighttpd serves under another path (a rewrite, an error handler) is decided on
        // the path the client asked for too: refused if either is.
        if let original = request.originalPathBytes, original != request.pathBytes {
            let asSent = request.with(servedPath: original)
            decision.diagnostics.explanation?.append(
                "the client asked for \(asSent.path); lighttpd serves \(request.path)")
            judge(
                asSent, rules: rules, configuration: configuration, now: now, cache: cache, limiter: nil,
                metrics: metrics, presented: presented, offLoop: offLoop, into: &decision)
            if decision.verdict.status != 0 || decision.diagnostics.wouldRefuse != nil || decision.awaiting != nil {
                return decision
            }
            decision.effects.requestHeaders = []
            decision.effects.environment = []
            decision.diagnostics.explanation?.append("then \(request.path):")
        }
        judge(
            request, rules: rules, configuration: configuration, now: now, cache: cache, limiter: limiter,
            metrics: metrics, presented: presented, offLoop: offLoop, into: &decision)
        return decision
    }

    /// Chooses the rule for `request`, authenticates it, evaluates the rule and turns its truth
    /// into the verdict, into `decision`.
    private static func judge(
        _ request: HTTPRequest, rules: RuleSet, configuration: Configuration, now: Int64,
        cache: TokenCache?, limiter: RateLimiter?, metrics: Metrics?, presented: VerifiedClaims?,
        offLoop: OffLoopVerification?, into decision: inout Decision
    ) {
        let rule = chooseRule(request, rules: rules, configuration: configuration, into: &decision)
        let caller = authenticate(
            request, configuration: configuration, now: now, cache: cache, metrics: metrics, presented: presented,
            offLoop: offLoop, into: &decision)
        // The token waits for a worker thread (decided when it is verified), none was free (503), or
        // none answered before the request's deadline (504).
        if decision.awaiting != nil { return }
        if decision.verdict.reason == .busy || decision.verdict.reason == .verificationTimeout {
            mode(&decision, configuration: configuration)
            return
        }
        let truth = evaluate(rule, caller, request, into: &decision)
        verdict(
            truth, rule: rule, caller: caller, request: request, configuration: configuration, limiter: limiter,
            metrics: metrics, now: now, into: &decision)
        mode(&decision, configuration: configuration)
    }

    /// Makes text safe inside an HTTP quoted-string: no quote, backslash or control character.
    static func quoted(_ text: String) -> String {
        String(decoding: text.utf8.filter { $0 >= 0x20 && $0 != 0x7F && $0 != 0x22 && $0 != 0x5C }, as: UTF8.self)
    }
}
