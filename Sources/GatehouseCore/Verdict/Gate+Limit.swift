extension Gate {
    /// Takes the request from each of the caller's buckets that applies; over a limit: 429
    /// with `Retry-After` and the `RateLimit-*` fields of draft-ietf-httpapi-ratelimit-headers.
    static func limit(
        _ decision: inout Decision, request: HTTPRequest, identity: Identity?, configuration: Configuration,
        limiter: RateLimiter, metrics: Metrics?, now: Int64
    ) {
        // Subjects are unique per issuer only (OpenID Connect Core §2): the issuer is part of
        // the caller, its length first so that no issuer and subject can make another pair.
        let issuer = identity?.claims["iss"]?.stringValue ?? ""
        let caller = identity?.subject.map { "sub:\(issuer.utf8.count):\(issuer)\($0)" } ?? "ip:" + request.remoteIP
        for limit in configuration.rateLimits where limit.applies(to: request.method) {
            guard let wait = limiter.take(limit, caller: caller, now: now, metrics: metrics) else { continue }
            decision.verdict.status = 429
            decision.verdict.reason = .rateLimited
            decision.verdict.message = "over the rate limit \(limit.description)"
            decision.effects.requestHeaders = []
            decision.effects.environment = []
            decision.effects.responseHeaders = [
                ("Retry-After", String(wait)), ("RateLimit-Limit", String(limit.requests)),
                ("RateLimit-Remaining", "0"), ("RateLimit-Reset", String(wait)),
            ]
            decision.diagnostics.explanation?.append("refused 429: over \(limit.description) for \(caller)")
            return
        }
    }
}
