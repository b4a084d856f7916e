extension Gate {
    /// Who asks: the identity of a verified token (or of claims given to the CLI), or why the token
    /// was refused; neither when the request carries none.
    struct Caller {
        let identity: Identity?
        let tokenError: TokenError?
    }

    /// Finds the request's token and verifies it.
    static func authenticate(
        _ request: HTTPRequest, configuration: Configuration, now: Int64, cache: TokenCache?, metrics: Metrics?,
        presented: JSONObject?, offLoop: OffLoopVerification?, into decision: inout Decision
    ) -> Caller {
        // The token: absent, invalid (with why), or verified.
        var tokenError: TokenError?
        var identity: Identity?
        let claims =
            presented.map { Result<JSONObject?, TokenError>.success($0) }
            ?? verifiedToken(
                request, configuration: configuration, now: now, cache: cache, metrics: metrics,
                offLoop: offLoop, into: &decision
            )
            .map { $0?.claims }
        switch claims {
        case .success(let claims?):
            identity = Identity(claims: claims, names: configuration.claimPaths)
            decision.claims = claims
            decision.diagnostics.explanation?.append(
                (presented == nil ? "token verified" : "claims given, not verified")
                    + ": sub " + (identity?.subject.map { "\"\($0)\"" } ?? "absent"))
        case .success(nil): break
        case .failure(let error): tokenError = error
        }
        if let tokenError {
            decision.diagnostics.explanation?.append(
                "token refused: \(tokenError.code.rawValue): \(tokenError.message)")
        }
        return Caller(identity: identity, tokenError: tokenError)
    }

    /// The request's bearer token, verified: nil when it has none, or when it waits for a worker
    /// thread (`decision.awaiting`) or none can take it (`decision.verdict`: 503).
    static func verifiedToken(
        _ request: HTTPRequest, configuration: Configuration, now: Int64,
        cache: TokenCache?, metrics: Metrics?, offLoop: OffLoopVerification?, into decision: inout Decision
    ) -> Result<VerifiedToken?, TokenError> {
        switch TokenSource.token(in: request, from: configuration.tokenSources) {
        case .failure(let error): return .failure(error)
        case .success(nil): return .success(nil)
        case .success(let token?):
            decision.token = token
            guard let keys = configuration.keys else {
                return .failure(TokenError(.unknownKey, "no keys are configured (gatehouse.jwks)"))
            }
            let requirements = configuration.tokenRequirements
            let start = metrics == nil ? 0 : Metrics.monotonic()
            if let offLoop, let cache {
                switch offLoop.jobs.verification(
                    of: token, keys: keys, requirements: requirements, now: now, cache: cache,
                    resumed: offLoop.resumed)
                {
                case .settled(let result):
                    metrics?.timeVerification(since: start)
                    return result.map { $0 }
                case .waiting(let id):  // (timed when its request is decided again)
                    decision.awaiting = id
                    return .success(nil)
                case .busy:
                    busy(&decision, queue: offLoop.jobs.pool.capacity)
                    return .success(nil)
                case .onLoop: break
                }
            }
            let verified = TokenVerifier.verify(token, keys: keys, requirements: requirements, now: now, cache: cache)
            metrics?.timeVerification(since: start)
            return verified.map { $0 }
        }
    }
}

/// Verification of a request's token on the worker threads of gatehouse.verify-threads: the jobs,
/// and the job the request waited for when it is decided again.
public struct OffLoopVerification {
    let jobs: SignatureJobs
    let resumed: UInt64?
}

extension Gate {
    /// No worker thread can take the token now: 503, to be asked again in a second.
    static func busy(_ decision: inout Decision, queue: Int) {
        decision.verdict.status = 503
        decision.verdict.reason = .busy
        decision.verdict.message = "\(queue) tokens are waiting for verification already"
        decision.effects.responseHeaders = [("Retry-After", "1")]
        decision.diagnostics.explanation?.append("refused 503: the verification queue is full")
    }
}
