extension Gate {
    /// Who asks: the identity of a verified token (or of claims given to the CLI), or why the token
    /// was refused (a valid one whose claims do not fit gatehouse.claims-schema too); neither when the
    /// request carries none.
    struct Caller {
        let identity: Identity?
        let tokenError: TokenError?
    }

    /// Finds the request's token and verifies it.
    static func authenticate(
        _ request: HTTPRequest, configuration: Configuration, now: Int64, cache: TokenCache?, metrics: Metrics?,
        presented: JSONObject?, into decision: inout Decision
    ) -> Caller {
        // The token: absent, invalid (with why), or verified.
        var tokenError: TokenError?
        var identity: Identity?
        let claims =
            presented.map { Result<JSONObject?, TokenError>.success($0) }
            ?? verifiedToken(
                request, configuration: configuration, now: now, cache: cache, metrics: metrics,
                into: &decision
            )
            .map { $0?.claims }
        switch claims {
        case .success(let claims?):
            decision.claims = claims
            decision.diagnostics.explanation?.append(
                (presented == nil ? "token verified" : "claims given, not verified")
                    + ": sub " + (claims["sub"]?.stringValue.map { "\"\($0)\"" } ?? "absent"))
            // A claim of another type than declared: no identity, so no rule reads it (Gate.verdict).
            if let mismatch = configuration.claimsSchema?.check(claims) {
                tokenError = mismatch
                decision.diagnostics.problem = mismatch.message
            } else {
                identity = Identity(claims: claims, names: configuration.claimPaths)
            }
        case .success(nil): break
        case .failure(let error): tokenError = error
        }
        if let tokenError {
            decision.diagnostics.explanation?.append(
                "token refused: \(tokenError.code.rawValue): \(tokenError.message)")
        }
        return Caller(identity: identity, tokenError: tokenError)
    }

    /// The request's bearer token, verified: nil when it has none.
    static func verifiedToken(
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
                TokenVerifier.verify(
                    token, keys: keys, requirements: configuration.tokenRequirements, now: now,
                    cache: cache)
            }
            return (metrics?.timeVerification(verify) ?? verify()).map { $0 }
        }
    }
}
