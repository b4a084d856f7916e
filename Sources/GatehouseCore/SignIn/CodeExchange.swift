internal import CCurl

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
    let clientID: String
    let settings: SignInSettings
    let metadata: ProviderMetadata
    let keys: KeySet?
    let requirements: TokenRequirements
    let sessionKeys: SessionKeys
    let claimPaths: ClaimPaths

    /// The most bytes of a token endpoint answer.
    static let maximumResponse = 256 * 1024
    /// Claims of the ID token that no rule or header needs: not kept in the session.
    static let protocolClaims: Set<String> = [
        "aud", "nonce", "at_hash", "c_hash", "iat", "exp", "nbf", "jti", "azp", "sid", "auth_time",
    ]

    func run(cancelled: UnsafeMutablePointer<Int32>) -> JobResult {
        let endpoint = metadata.tokenEndpoint
        var form: [(String, String)] = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
            ("code_verifier", login.verifier),
        ]
        var authorization: String?
        switch settings.auth {
        case .none: form.append(("client_id", clientID))
        case .clientSecretPost: form += [("client_id", clientID), ("client_secret", settings.clientSecret ?? "")]
        case .clientSecretBasic:
            // RFC 6749 §2.3.1: each part form-encoded, then base64.
            let pair = FormEncoding.escape(clientID) + ":" + FormEncoding.escape(settings.clientSecret ?? "")
            authorization = "Authorization: Basic " + CodeExchange.base64(Array(pair.utf8))
        }
        let body = FormEncoding.encode(form)
        var response = gh_curl_response()
        response.limit = CodeExchange.maximumResponse
        response.cancelled = UnsafePointer(cancelled)
        let timeout = Int(settings.timeout) * 1000
        let code = endpoint.withCString { url in
            body.withCString { body in
                if let authorization {
                    return authorization.withCString { header in
                        gh_curl_post_form(url, body, header, min(3000, timeout), timeout, &response)
                    }
                }
                return gh_curl_post_form(url, body, nil, min(3000, timeout), timeout, &response)
            }
        }
        defer { free(response.body) }
        let why = withUnsafeBytes(of: &response.error) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if code == GH_CURLE_OPERATION_TIMEDOUT || code == GH_CURLE_ABORTED_BY_CALLBACK {
            return .failure(
                status: 504,
                log: "gatehouse: sign-in failed: the token endpoint \(endpoint) did not answer in time (\(why))")
        }
        if response.too_large != 0 {
            return .failure(
                status: 502,
                log:
                    "gatehouse: sign-in failed: the token endpoint \(endpoint) answered more than \(CodeExchange.maximumResponse) bytes"
            )
        }
        if code != 0 {
            return .failure(
                status: 502,
                log: "gatehouse: sign-in failed: the token endpoint \(endpoint) could not be reached: \(why)")
        }
        let bytes = response.body.map { Array(UnsafeRawBufferPointer(start: $0, count: response.length)) } ?? []
        let answer = (try? JSON.parse(bytes).get())?.objectValue
        guard response.status == 200 else {
            let error = answer?["error"]?.stringValue.map { " error=\($0.prefix(64))" } ?? ""
            return .failure(
                status: response.status >= 400 && response.status < 500 ? 403 : 502,
                log: "gatehouse: sign-in failed: the token endpoint \(endpoint) answered \(response.status)\(error)")
        }
        guard let idToken = answer?["id_token"]?.stringValue else {
            return .failure(
                status: 502, log: "gatehouse: sign-in failed: the token endpoint \(endpoint) answered no id_token")
        }
        let now = Int64(time(nil))
        switch verify(idToken, now: now) {
        case .failure(let why):
            return .failure(status: 403, log: "gatehouse: sign-in refused: the ID token \(why.message)")
        case .success(let claims):
            return establish(claims: claims, idToken: idToken, now: now)
        }
    }

    /// The ID token's claims when it is one for this client and this login.
    func verify(_ idToken: String, now: Int64) -> Result<JSONObject, Refusal> {
        guard let keys else { return .failure(Refusal("cannot be verified: no keys are configured (gatehouse.jwks)")) }
        var wanted = requirements
        wanted.audiences = [clientID]
        if wanted.issuers?.isEmpty ?? true { wanted.issuers = [metadata.issuer] }
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
        guard let nonce = claims["nonce"]?.stringValue, SignIn.constantTimeEqual(nonce, login.nonce) else {
            return .failure(Refusal("does not carry this sign-in's nonce"))
        }
        guard case .integer(let issuedAt)? = claims["iat"], issuedAt <= now + wanted.leeway,
            issuedAt >= now - LoginState.lifetime - wanted.leeway
        else { return .failure(Refusal("has no iat of the last 10 minutes")) }
        return .success(claims)
    }

    /// The session for these claims: sealed, and kept to the cookies a browser accepts by
    /// leaving out the ID token, then the largest claims rules do not read by name.
    func establish(claims: JSONObject, idToken: String, now: Int64) -> JobResult {
        var kept = claims.members.filter { !CodeExchange.protocolClaims.contains($0.key) }
        var session = SessionContents(
            claims: JSONObject(members: kept), expires: now + settings.lifetime,
            idleDeadline: now + min(settings.idleTimeout, settings.lifetime), idToken: idToken)
        var log = [(error: Bool, text: String)]()
        let essential: Set<String> = Set(
            ["sub", "iss", "roles", "groups", "scope", "scp"]
                + [claimPaths.roles, claimPaths.groups, claimPaths.scope].compactMap { $0?.components.first })
        while true {
            guard let sealed = session.seal(keys: sessionKeys) else {
                return .failure(status: 500, log: "gatehouse: sign-in failed: sealing the session failed")
            }
            if let fields = Cookies.sessionFields(sealed, maxAge: settings.lifetime) {
                return JobResult(
                    status: 302,
                    headers: fields + [
                        Cookies.setCookie(Cookies.login, "", maxAge: 0), ("Location", login.target),
                        ("Cache-Control", "no-store"),
                    ], log: log)
            }
            if session.idToken != nil {
                session.idToken = nil
                log.append(
                    (false, "gatehouse: the session is too large for the ID token: logout sends no id_token_hint"))
                continue
            }
            guard
                let largest = kept.indices.filter({ !essential.contains(kept[$0].key) })
                    .max(by: { kept[$0].value.serialized.utf8.count < kept[$1].value.serialized.utf8.count })
            else {
                return .failure(
                    status: 502, log: "gatehouse: sign-in failed: the identity's claims do not fit in cookies")
            }
            log.append((false, "gatehouse: the session is too large: claim \(kept[largest].key) left out"))
            kept.remove(at: largest)
            session.claims = JSONObject(members: kept)
        }
    }

    /// Why an ID token is not this sign-in's.
    struct Refusal: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// Standard base64 with padding (RFC 4648 §4), for HTTP Basic.
    static func base64(_ bytes: [UInt8]) -> String {
        var text = Base64URL.encode(bytes).map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 }
        while text.count % 4 != 0 { text.append("=") }
        return String(text)
    }
}
