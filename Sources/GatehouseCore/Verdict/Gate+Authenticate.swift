extension Gate {
    /// Who asks: the identity of a verified token (or of claims given to the CLI), or why the token
    /// was refused (a valid one whose claims do not fit gatehouse.claims-schema too); neither when the
    /// request carries none.
    struct Caller {
        /// The identity, and what it attaches, under the context's identity settings.
        let derived: DerivedIdentity?
        let tokenError: TokenError?

        var identity: Identity? { derived?.identity }
    }

    /// Finds the request's token and verifies it.
    static func authenticate(
        _ request: HTTPRequest, configuration: Configuration, now: Int64, cache: TokenCache?, metrics: Metrics?,
        presented: VerifiedClaims?, offLoop: OffLoopVerification?, into decision: inout Decision
    ) -> Caller {
        // The token: absent, invalid (with why), or verified.
        var tokenError: TokenError?
        var derived: DerivedIdentity?
        if let presented {
            derived = presented.derived(under: configuration.identitySettings)
            decision.claims = presented.claims
        } else {
            switch verifiedToken(
                request, configuration: configuration, now: now, cache: cache, metrics: metrics, offLoop: offLoop,
                into: &decision)
            {
            case .success(let entry?):
                // (kept with the cached token: a hit derives the identity and renders headers once)
                derived = entry.verified.derived(under: configuration.identitySettings)
                decision.claims = entry.verified.claims
            case .success(nil): break
            case .failure(let error): tokenError = error
            }
        }
        if let derived {
            decision.diagnostics.explanation?.append(
                (presented == nil ? "token verified" : "claims given, not verified")
                    + ": sub " + (derived.identity.subject.map { "\"\($0)\"" } ?? "absent"))
        }
        // A claim of another type than declared: no identity, so no rule reads it (Gate.verdict).
        if let mismatch = derived?.mismatch {
            tokenError = mismatch
            decision.diagnostics.problem = mismatch.message
            derived = nil
        }
        if let tokenError {
            decision.diagnostics.explanation?.append(
                "token refused: \(tokenError.code.rawValue): \(tokenError.message)")
        }
        return Caller(derived: derived, tokenError: tokenError)
    }

    /// The request's bearer token, verified (the cache's entry for it): nil when it has none, or
    /// when it waits for a worker thread (`decision.awaiting`), none can take it (`decision.verdict`:
    /// 503) or none answered before the request's deadline (504).
    static func verifiedToken(
        _ request: HTTPRequest, configuration: Configuration, now: Int64,
        cache: TokenCache?, metrics: Metrics?, offLoop: OffLoopVerification?, into decision: inout Decision
    ) -> Result<CachedToken?, TokenError> {
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
                case .unsettled:
                    timedOut(&decision)
                    return .success(nil)
                case .onLoop: break
                }
            }
            let verified = TokenVerifier.verified(token, keys: keys, requirements: requirements, now: now, cache: cache)
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

    /// The request waited for a worker thread, and its deadline passed first: 504.
    static func timedOut(_ decision: inout Decision) {
        let why = "the token's signature was not verified before the request's deadline"
        decision.verdict.status = 504
        decision.verdict.reason = .verificationTimeout
        decision.verdict.message = why
        decision.diagnostics.problem = why
        decision.diagnostics.explanation?.append("refused 504: \(why)")
    }
}
