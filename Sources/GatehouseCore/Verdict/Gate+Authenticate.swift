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
        presented: JSONObject?, into decision: inout Decision
    ) -> Caller {
        // The token: absent, invalid (with why), or verified.
        var tokenError: TokenError?
        var derived: DerivedIdentity?
        if let presented {
            derived = DerivedIdentity(claims: presented, settings: configuration.identitySettings)
            decision.claims = presented
        } else {
            switch verifiedToken(
                request, configuration: configuration, now: now, cache: cache, metrics: metrics, into: &decision)
            {
            case .success(let entry?):
                // (kept with the cached token: a hit derives the identity and renders headers once)
                derived = entry.derived(under: configuration.identitySettings)
                decision.claims = entry.claims
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

    /// The request's bearer token, verified (the cache's entry for it): nil when it has none.
    static func verifiedToken(
        _ request: HTTPRequest, configuration: Configuration, now: Int64,
        cache: TokenCache?, metrics: Metrics?, into decision: inout Decision
    ) -> Result<CachedToken?, TokenError> {
        switch TokenSource.token(in: request, from: configuration.tokenSources) {
        case .failure(let error): return .failure(error)
        case .success(nil): return .success(nil)
        case .success(let token?):
            decision.token = token
            guard let keys = configuration.keys else {
                return .failure(TokenError(.unknownKey, "no keys are configured (gatehouse.jwks)"))
            }
            let requirements = configuration.tokenRequirements  // (the closure copies only these)
            let verify = {
                TokenVerifier.verified(token, keys: keys, requirements: requirements, now: now, cache: cache)
            }
            return (metrics?.timeVerification(verify) ?? verify()).map { $0 }
        }
    }
}
