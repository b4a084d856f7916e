extension Gate {
    /// A CORS preflight, answered by the module: 204 with the Access-Control-Allow-* headers;
    /// 403 on a path whose rule denies the method asked about whoever asks, or from an origin
    /// or for a method not listed; 429 over a rate limit.
    static func answer(
        _ preflight: CORSPreflight, _ request: HTTPRequest, rules: RuleSet, configuration: Configuration,
        limiter: RateLimiter?, metrics: Metrics?, now: Int64, into decision: inout Decision
    ) {
        decision.verdict.rule = "gatehouse.cors-preflight"
        let origin = request.header("Origin") ?? ""
        let method = request.header("Access-Control-Request-Method") ?? ""
        let asked = request.with(method: method)
        let path = request.lowercasePaths ? lowerCased(request.pathBytes) : request.pathBytes
        var methodBytes = method
        let selection = methodBytes.withUTF8 { m in
            path.withUnsafeBufferPointer { p in rules.select(method: m, path: p, foldingCase: request.lowercasePaths) }
        }
        let expression = selection?.rule.expression ?? configuration.defaultExpression
        let context = Expression.Context(identity: nil, captures: selection?.captures ?? [], request: asked)
        var ignored: [String]?
        if expression.evaluate(context, trace: &ignored) == .no {
            refuse(
                &decision, status: 403, TokenError(.policyDenied, "the policy denies \(method) here to anyone"),
                realm: "")
            return
        }
        switch preflight.answer(origin: origin, method: method) {
        case .failure(let error):
            refuse(&decision, status: 403, error, realm: "")
        case .success(let fields):
            if let limiter {
                limit(
                    &decision, request: request, identity: nil, configuration: configuration, limiter: limiter,
                    metrics: metrics, now: now)
            }
            guard decision.verdict.status == 0 else { return }
            decision.verdict.status = 204
            decision.effects.responseHeaders = fields
            decision.diagnostics.explanation?.append("a CORS preflight, answered by gatehouse.cors-preflight")
        }
    }
}
