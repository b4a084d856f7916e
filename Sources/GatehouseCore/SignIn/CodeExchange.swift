#if canImport(Glibc)
    import Glibc
#endif

/// A sign-in callback's work, on a worker thread: the authorization code exchanged at the token
/// endpoint (RFC 6749 §4.1.3, with the PKCE verifier of RFC 7636 §4.5), the ID token verified
/// (OpenID Connect Core §3.1.3.7), and the session sealed. Holds copies of everything it reads.
struct CodeExchange: Sendable {
    let code: String
    let login: LoginState
    let redirectURI: String
    let client: ProviderClient

    /// Claims of the ID token that no rule or header needs: not kept in the session.
    static let protocolClaims: Set<String> = [
        "aud", "nonce", "at_hash", "c_hash", "iat", "exp", "nbf", "jti", "azp", "sid", "auth_time",
    ]

    func run(cancelled: UnsafeMutablePointer<Int32>) -> JobResult {
        let form = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
            ("code_verifier", login.verifier),
        ]
        let answer: JSONObject?
        let endpoint = client.metadata.tokenEndpoint
        switch client.post(form, cancelled: cancelled) {
        case .late(let why): return .failure(status: 504, log: "gatehouse: sign-in failed: " + why)
        case .failed(let why): return .failure(status: 502, log: "gatehouse: sign-in failed: " + why)
        case .answered(let status, let body):
            guard status == 200 else {
                let error = body?["error"]?.stringValue.map { " error=\($0.prefix(64))" } ?? ""
                return .failure(
                    status: status >= 400 && status < 500 ? 403 : 502,
                    log: "gatehouse: sign-in failed: the token endpoint \(endpoint) answered "
                        + "\(status)\(error)")
            }
            answer = body
        }
        guard let idToken = answer?["id_token"]?.stringValue else {
            return .failure(
                status: 502,
                log: "gatehouse: sign-in failed: the token endpoint \(endpoint) answered no id_token")
        }
        let now = Int64(time(nil))
        switch verify(idToken, now: now) {
        case .failure(let why):
            return .failure(status: 403, log: "gatehouse: sign-in refused: the ID token \(why.message)")
        case .success(let claims):
            return establish(
                claims: claims, idToken: idToken, refreshToken: answer?["refresh_token"]?.stringValue, now: now)
        }
    }

    /// The ID token's claims when it is one for this client and this login.
    func verify(_ idToken: String, now: Int64) -> Result<JSONObject, Refusal> {
        client.check(idToken, now: now).flatMap { claims in
            guard let nonce = claims["nonce"]?.stringValue, SignIn.constantTimeEqual(nonce, login.nonce) else {
                return .failure(Refusal("does not carry this sign-in's nonce"))
            }
            return .success(claims)
        }
    }

    /// The checks of OpenID Connect Core §3.1.3.7 an ID token passes at sign-in and at a refresh
    /// alike (the nonce aside): the bearer verifier, `aud` = the client id, `azp`, a recent `iat`.
    static func check(
        _ idToken: String, clientID: String, issuer: String, keys: KeySet?, requirements: TokenRequirements,
        now: Int64
    ) -> Result<JSONObject, Refusal> {
        guard let keys else { return .failure(Refusal("cannot be verified: no keys are configured (gatehouse.jwks)")) }
        var wanted = requirements
        wanted.audiences = [clientID]
        if wanted.issuers?.isEmpty ?? true { wanted.issuers = [issuer] }
        wanted.tokenType = nil
        wanted.maxTokenAge = nil
        let claims: JSONObject
        switch TokenVerifier.verify(idToken, keys: keys, requirements: wanted, now: now) {
        case .failure(let error): return .failure(Refusal("was refused: \(error.code.rawValue): \(error.message)"))
        case .success(let verified): claims = verified.claims
        }
        let audiences: [String] =
            switch claims["aud"] {
            case .string(let one)?: [one]
            case .array(let many)?: many.compactMap(\.stringValue)
            default: []
            }
        let azp = claims["azp"]?.stringValue
        if audiences.count > 1 && azp == nil { return .failure(Refusal("has several audiences and no azp")) }
        if let azp, !azp.sameBytes(clientID) { return .failure(Refusal("was issued to another client (azp)")) }
        guard case .integer(let issuedAt)? = claims["iat"], issuedAt <= now + wanted.leeway,
            issuedAt >= now - LoginState.lifetime - wanted.leeway
        else { return .failure(Refusal("has no iat of the last 10 minutes")) }
        return .success(claims)
    }

    /// The session for these claims, sealed in the cookies a browser accepts (SessionContents.sealToFit),
    /// refreshed with `refreshToken` before the ID token expires when the provider issued one.
    func establish(claims: JSONObject, idToken: String, refreshToken: String?, now: Int64) -> JobResult {
        let settings = client.settings
        let expires = now + settings.lifetime
        var session = SessionContents(
            claims: CodeExchange.kept(claims), expires: expires,
            idleDeadline: now + min(settings.idleTimeout, settings.lifetime), idToken: idToken)
        if let refreshToken, case .integer(let tokenExpires)? = claims["exp"] {
            session.refreshAt = SessionContents.refreshTime(
                tokenExpires: tokenExpires, now: now, window: settings.refreshBefore, sessionEnds: expires)
            session.refreshToken = session.refreshAt == nil ? nil : refreshToken
        }
        var log = [(error: Bool, text: String)]()
        switch client.seal(&session, maxAge: settings.lifetime, log: &log) {
        case .failure(.sealing):
            return .failure(status: 500, log: "gatehouse: sign-in failed: sealing the session failed")
        case .failure(.tooLarge):
            return .failure(status: 502, log: "gatehouse: sign-in failed: the identity's claims do not fit in cookies")
        case .success(let fields):
            return JobResult(
                status: 302,
                headers: fields + [
                    Cookies.setCookie(Cookies.login, "", maxAge: 0), ("Location", login.target),
                    ("Cache-Control", "no-store"),
                ], log: log)
        }
    }

    /// The claims a session keeps: the ID token's, without those only the protocol needs.
    static func kept(_ claims: JSONObject) -> JSONObject {
        JSONObject(members: claims.members.filter { !protocolClaims.contains($0.key) })
    }

    /// The claims a session never leaves out to fit the cookies: those rules read by name.
    static func essential(_ claimPaths: ClaimPaths) -> Set<String> {
        Set(
            ["sub", "iss", "roles", "groups", "scope", "scp"]
                + [claimPaths.roles, claimPaths.groups, claimPaths.scope].compactMap { $0?.components.first })
    }

    /// Why an ID token is not this sign-in's.
    struct Refusal: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }
}
