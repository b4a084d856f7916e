/// Browser sign-in around the decision (docs/browser-sign-in.md): the callback and logout paths,
/// the session cookie as an identity, cross-site request forgery, and the redirect to the
/// provider for a browser navigation that has no identity.
public enum SignIn {
    /// What sign-in does with a request before the rules decide it.
    enum Step {
        /// Answer now (a refused callback, a logout).
        case answer(JobResult)
        /// Answer when this off-loop job completes (a callback's code exchange).
        case submit(@Sendable (Job) -> JobResult)
        /// Decide with the session's claims; these response headers go out if it is let through.
        case session(VerifiedClaims, [(name: String, value: String)])
        /// Refresh the session first, off the loop (once per refresh token: the key).
        case refresh(String, SessionRefresh)
        /// The provider ended the session: decide as if there were none, and clear its cookies.
        case ended([(name: String, value: String)])
        /// No sign-in business: decide as usual.
        case none
    }

    /// The origin this request came to: what `redirect_uri` and same-origin checks are made of.
    public static func origin(_ request: HTTPRequest, scheme: String) -> String {
        "\(scheme == "https" ? "https" : "http")://\(request.host)"
    }

    static func before(
        _ request: HTTPRequest, scheme: String, configuration: Configuration, now: Int64,
        memory: inout SignInMemory
    ) -> Step {
        guard let keys = configuration.signIn.keys, let metadata = configuration.signIn.metadata,
            let clientID = configuration.signIn.clientID
        else { return .none }
        if configuration.signIn.callbackPath.utf8.elementsEqual(request.pathBytes) {
            return callback(
                request, scheme: scheme, configuration: configuration, keys: keys, metadata: metadata,
                clientID: clientID, cookies: request.header("Cookie"), now: now, consumed: &memory.consumed)
        }
        if configuration.signIn.logoutPath.utf8.elementsEqual(request.pathBytes) {
            return .answer(
                logout(
                    request, scheme: scheme, settings: configuration.signIn, keys: keys, metadata: metadata,
                    clientID: clientID, cookies: request.header("Cookie")))
        }
        // (the session read from the Cookie header's bytes: no string of the whole header)
        var sealed: String?
        _ = request.readHeader("Cookie") { sealed = Cookies.sessionValue(in: $0) }
        guard let sealed,
            case .success(nil) = TokenSource.token(in: request, from: configuration.tokenSources),
            let opened = memory.open(sealed, keys: keys), opened.contents.ended(now: now) == nil
        else { return .none }
        var session = opened.contents
        var verified = opened.verified
        if !SignIn.isSafe(request.method), !sameOrigin(request, scheme: scheme) {
            var refusal = JobResult(status: 403)
            refusal.log.append(
                (
                    false,
                    "gatehouse: \(request.method) \(request.path) refused: a session cookie from another origin "
                        + "(Origin or Sec-Fetch-Site is not this site's)"
                ))
            return .answer(refusal)
        }
        var headers = [(name: String, value: String)]()
        if session.refreshDue(now: now), let token = session.refreshToken {
            switch memory.refreshOutcome(token, now: now) {
            case nil:
                return .refresh(
                    token,
                    SessionRefresh(
                        session: session,
                        client: ProviderClient(
                            clientID: clientID, configuration: configuration, metadata: metadata, sessionKeys: keys)))
            case .refreshed(let fresh, let fields)?:
                session = fresh
                verified = VerifiedClaims(fresh.claims)
                headers = fields
            case .ended?: return .ended(Cookies.clearSession())
            case .kept?: break
            }
        }
        // The idle deadline slides; re-sealed at most once a minute.
        if headers.isEmpty, session.idleDeadline - now < configuration.signIn.idleTimeout - 60 {
            session.idleDeadline = min(session.expires, now + configuration.signIn.idleTimeout)
            if let resealed = session.seal(keys: keys),
                let fields = Cookies.sessionFields(resealed, maxAge: session.expires - now)
            {
                headers = fields
            }
        }
        return .session(verified, headers)
    }

    /// GET, HEAD and OPTIONS change nothing (RFC 9110 §9.2.1): any other method with a session
    /// must come from this origin.
    static func isSafe(_ method: String) -> Bool {
        switch method {
        case "GET", "HEAD", "OPTIONS": true
        default: false
        }
    }

    /// A state-changing request with a session must come from this origin (the Fetch
    /// standard's Origin, else Sec-Fetch-Site).
    public static func sameOrigin(_ request: HTTPRequest, scheme: String) -> Bool {
        if let origin = request.header("Origin") { return origin.sameBytes(Self.origin(request, scheme: scheme)) }
        return request.header("Sec-Fetch-Site").map { $0.sameBytes("same-origin") } ?? false
    }

    /// A browser navigating (a page load), which a redirect to the provider serves; an API call,
    /// an XHR or fetch, or anything but GET and HEAD gets 401 instead.
    static func isNavigation(_ request: HTTPRequest) -> Bool {
        guard request.method == "GET" || request.method == "HEAD", request.header("Authorization") == nil,
            request.header("X-Requested-With") == nil
        else { return false }
        if let mode = request.header("Sec-Fetch-Mode") { return mode.sameBytes("navigate") }
        guard let accept = request.header("Accept") else { return false }
        let bytes = Array(accept.utf8)
        guard let html = offset(of: "text/html", in: bytes) else { return false }
        return offset(of: "json", in: bytes).map { html < $0 } ?? true
    }

    /// Where `needle` first occurs in `haystack` (ASCII, case-insensitive).
    private static func offset(of needle: String, in haystack: [UInt8]) -> Int? {
        let pattern = Array(needle.utf8)
        guard haystack.count >= pattern.count else { return nil }
        return (0...(haystack.count - pattern.count)).first { start in
            (0..<pattern.count).allSatisfy { haystack[start + $0] | 0x20 == pattern[$0] | 0x20 }
        }
    }

    /// The redirect to the provider's authorization endpoint, with a fresh login sealed in the
    /// login cookie (authorization code flow with PKCE, OpenID Connect Core §3.1.2.1, RFC 7636).
    static func loginRedirect(
        _ request: HTTPRequest, scheme: String, settings: SignInSettings, now: Int64
    ) -> JobResult? {
        guard let keys = settings.keys, let metadata = settings.metadata, let clientID = settings.clientID,
            let login = LoginState.fresh(
                target: ReturnTarget.of(path: request.originalPath ?? request.path, query: request.query), now: now),
            let sealed = login.seal(keys: keys)
        else { return nil }
        let query = FormEncoding.encode([
            ("response_type", "code"), ("client_id", clientID),
            ("redirect_uri", origin(request, scheme: scheme) + settings.callbackPath), ("scope", settings.scopes),
            ("state", login.state), ("nonce", login.nonce), ("code_challenge", login.challenge),
            ("code_challenge_method", "S256"),
        ])
        let separator = metadata.authorizationEndpoint.contains("?") ? "&" : "?"
        return JobResult(
            status: 302,
            headers: [
                ("Location", metadata.authorizationEndpoint + separator + query),
                Cookies.setCookie(Cookies.login, sealed, maxAge: LoginState.lifetime),
                ("Cache-Control", "no-store"),
            ])
    }

    private static func callback(
        _ request: HTTPRequest, scheme: String, configuration: Configuration, keys: SessionKeys,
        metadata: ProviderMetadata, clientID: String, cookies: String?, now: Int64,
        consumed: inout BoundedStore<String, Int64>
    ) -> Step {
        let clear = Cookies.setCookie(Cookies.login, "", maxAge: 0)
        func refuse(_ status: Int, _ why: String) -> Step {
            .answer(JobResult(status: status, headers: [clear], log: [(true, "gatehouse: sign-in refused: " + why)]))
        }
        let parameters = FormEncoding.decode(request.query)
        func parameter(_ name: String) -> String? {
            let values = parameters.filter { $0.name == name }
            return values.count == 1 ? values[0].value : nil
        }
        guard request.method == "GET" else { return refuse(405, "the callback takes GET only") }
        guard let sealed = Cookies.value(named: Cookies.login, in: cookies),
            let login = LoginState.open(sealed, keys: keys)
        else { return refuse(400, "no sign-in in progress in this browser (no valid login cookie)") }
        guard login.expires > now else { return refuse(400, "the sign-in took longer than 10 minutes") }
        if let error = parameter("error") {
            return refuse(403, "the provider answered error=\(error.prefix(64))")
        }
        guard let state = parameter("state"), constantTimeEqual(state, login.state) else {
            return refuse(400, "the state does not match this browser's sign-in")
        }
        guard consumed[state] == nil else { return refuse(400, "this sign-in's state was used already") }
        consumed.set(login.expires, for: state)
        guard let code = parameter("code"), !code.isEmpty, code.utf8.count <= 2048,
            code.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return refuse(400, "no authorization code") }
        let exchange = CodeExchange(
            code: code, login: login, redirectURI: origin(request, scheme: scheme) + configuration.signIn.callbackPath,
            client: ProviderClient(
                clientID: clientID, configuration: configuration, metadata: metadata, sessionKeys: keys))
        return .submit { job in exchange.run(cancelled: job.cancelFlag) }
    }

    private static func logout(
        _ request: HTTPRequest, scheme: String, settings: SignInSettings, keys: SessionKeys,
        metadata: ProviderMetadata, clientID: String, cookies: String?
    ) -> JobResult {
        let session = Cookies.sessionValue(in: cookies).flatMap { SessionContents.open($0, keys: keys) }
        var location = settings.postLogoutRedirect
        if let endpoint = metadata.endSessionEndpoint {
            var query: [(String, String)] = [
                ("post_logout_redirect_uri", origin(request, scheme: scheme) + settings.postLogoutRedirect),
                ("client_id", clientID),
            ]
            if let hint = session?.idToken { query.append(("id_token_hint", hint)) }
            location = endpoint + (endpoint.contains("?") ? "&" : "?") + FormEncoding.encode(query)
        }
        return JobResult(
            status: 302,
            headers: Cookies.clearSession() + [
                Cookies.setCookie(Cookies.login, "", maxAge: 0), ("Location", location), ("Cache-Control", "no-store"),
            ])
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<x.count { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
