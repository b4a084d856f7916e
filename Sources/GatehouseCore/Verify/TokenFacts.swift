/// What the context-dependent checks read from a verified token, read once: a cached token is
/// checked again on every use (each context has its own issuers, audiences, algorithms and
/// clock) without touching its JSON again.
struct TokenFacts: Sendable {
    enum Issuer: Sendable {
        case absent
        case string(String)
        case notAString
    }

    let algorithm: JWSAlgorithm
    let type: JSON?
    let expiry: Double?
    let notBefore: Double?
    let issuedAt: Double?
    let issuer: Issuer
    /// `aud`: one string (no array then: most tokens have one), or a list.
    enum Audiences: Sendable {
        case absent
        case one(String)
        case list([String])

        func contains(where accepted: (String) -> Bool) -> Bool {
            switch self {
            case .absent: false
            case .one(let aud): accepted(aud)
            case .list(let values): values.contains(where: accepted)
            }
        }
    }

    let audiences: Audiences
    /// The claims kept with these facts (`TokenRequirements.claims`).
    let kept: ClaimNames

    /// Whether `name` is a claim the facts are read from.
    static func reads(_ name: String) -> Bool {
        switch name {
        case "exp", "nbf", "iat", "iss", "aud": true
        default: false
        }
    }

    /// Reads the facts (`requirements`: the claims kept, and the issuers accepted); a claim of the
    /// wrong type (an `exp` that is a string, an `aud` that is a number) makes the token malformed.
    init(header: JSONObject, claims: JSONObject, requirements: TokenRequirements) throws(TokenError) {
        kept = requirements.claims
        guard case .string(let name)? = header["alg"], let algorithm = JWSAlgorithm(name: name) else {
            throw TokenVerifier.malformed("the header has no supported \"alg\"")
        }
        self.algorithm = algorithm
        type = header["typ"]
        expiry = try TokenFacts.numericDate(claims, "exp")
        notBefore = try TokenFacts.numericDate(claims, "nbf")
        issuedAt = try TokenFacts.numericDate(claims, "iat")
        switch claims["iss"] {
        case nil: issuer = .absent
        // (the accepted issuer's own string when it is one: a cached token then holds no copy)
        case .string(let iss)?: issuer = .string(requirements.issuers?.first { $0.sameBytes(iss) } ?? iss)
        default: issuer = .notAString
        }
        switch claims["aud"] {
        case nil:
            audiences = .absent
        case .string(let aud)?:
            audiences = .one(aud)
        case .array(let list)?:
            var values = [String]()
            for element in list {
                guard case .string(let aud) = element else {
                    throw TokenVerifier.malformed("\"aud\" must be a string or an array of strings")
                }
                values.append(aud)
            }
            audiences = .list(values)
        default:
            throw TokenVerifier.malformed("\"aud\" must be a string or an array of strings")
        }
    }

    /// The checks of RFC 7519 §4.1 and the context's header requirements, at Unix time `now`.
    func check(_ requirements: TokenRequirements, now: Int64) -> TokenError? {
        if let error = TokenVerifier.checkAlgorithm(
            algorithm, type: type, algorithms: requirements.algorithms,
            tokenType: requirements.tokenType)
        {
            return error
        }
        let now = Double(now)
        let leeway = Double(requirements.leeway)
        guard let expiry else { return TokenError(.missingClaim, "the token has no \"exp\"") }
        if now >= expiry + leeway { return TokenError(.expired, "the token has expired") }
        if let notBefore, now + leeway < notBefore { return TokenError(.notYetValid, "the token is not valid yet") }
        if let issuedAt, issuedAt > now + leeway {
            return TokenError(.issuedInFuture, "the token was issued in the future")
        }
        if let maxAge = requirements.maxTokenAge {
            guard let issuedAt else { return TokenError(.missingClaim, "the token has no \"iat\"") }
            if now - issuedAt > Double(maxAge) + leeway { return TokenError(.tooOld, "the token is too old") }
        }
        if let issuers = requirements.issuers {
            switch issuer {
            case .absent:
                return TokenError(.missingClaim, "the token has no \"iss\"")
            case .string(let iss) where issuers.contains(where: { $0.sameBytes(iss) }):
                break
            default:
                return TokenError(.wrongIssuer, "the token's issuer is not accepted here")
            }
        }
        if let accepted = requirements.audiences {
            if case .absent = audiences { return TokenError(.missingClaim, "the token has no \"aud\"") }
            guard audiences.contains(where: { aud in accepted.contains { $0.sameBytes(aud) } }) else {
                return TokenError(.wrongAudience, "the token is not meant for this audience")
            }
        }
        return nil
    }

    /// A NumericDate (RFC 7519 §2): any JSON number, integer or not. As a Double every value
    /// compares without overflow: 1e300 is far in the future, -1e300 long past.
    private static func numericDate(_ claims: JSONObject, _ name: String) throws(TokenError) -> Double? {
        switch claims[name] {
        case nil: return nil
        case .integer(let number)?: return Double(number)
        case .real(let number)? where number.isFinite: return number
        default: throw TokenVerifier.malformed("\"\(name)\" is not a number")
        }
    }
}
