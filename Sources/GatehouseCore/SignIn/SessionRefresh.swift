#if canImport(Glibc)
    import Glibc
#endif

/// A session refreshed on a worker thread before its ID token expires (docs/browser-sign-in.md,
/// "Refresh"): the refresh token sent to the token endpoint (RFC 6749 §6), a new ID token, when
/// the provider returns one, verified as at sign-in but for the nonce, and required to name the
/// same `iss` and `sub` (OpenID Connect Core §12.2), and the session sealed again. Holds copies
/// of everything it reads.
struct SessionRefresh: Sendable {
    let session: SessionContents
    let client: ProviderClient

    /// What became of a refresh.
    enum Outcome: Sendable {
        /// The session refreshed: its new contents and the Set-Cookie fields that carry it.
        case refreshed(SessionContents, [(name: String, value: String)])
        /// The provider ended the session (invalid_grant), or its new ID token names someone else.
        case ended
        /// The provider could not be asked (down, slow, an unexpected answer): the session goes on
        /// until it ends, and the refresh is tried again later.
        case kept
    }

    /// `iss` or `sub` when the refreshed claims name another one than the session's (OpenID
    /// Connect Core §12.2: both must be the same); nil when they name the same identity.
    static func changedIdentity(from old: JSONObject, to new: JSONObject) -> String? {
        ["iss", "sub"].first { name in
            guard let was = old[name]?.stringValue, let now = new[name]?.stringValue else { return true }
            return !was.sameBytes(now)
        }
    }

    typealias Log = [(level: Effects.LogLevel, text: String)]

    func run(cancelled: UnsafeMutablePointer<Int32>) -> (Outcome, Log) {
        guard let refreshToken = session.refreshToken else { return (.kept, []) }
        let endpoint = client.metadata.tokenEndpoint
        func kept(_ why: String) -> (Outcome, Log) {
            (.kept, [(.warning, "gatehouse: the session was not refreshed, it goes on until it ends: " + why)])
        }
        func ended(_ why: String) -> (Outcome, Log) {
            (.ended, [(.error, "gatehouse: the session ended: " + why)])
        }
        let answer: JSONObject?
        switch client.post([("grant_type", "refresh_token"), ("refresh_token", refreshToken)], cancelled: cancelled) {
        case .late(let why), .failed(let why): return kept(why)
        case .answered(let status, let body):
            let error = body?["error"]?.stringValue
            if (400..<500).contains(status), error == "invalid_grant" {
                return ended("the token endpoint \(endpoint) refused the refresh token (invalid_grant)")
            }
            guard status == 200, let body, body["access_token"]?.stringValue != nil else {
                let shown = error.map { " error=\($0.prefix(64))" } ?? ""
                return kept("the token endpoint \(endpoint) answered \(status)\(shown) to the refresh")
            }
            answer = body
        }
        let now = Int64(time(nil))
        var fresh = session
        var tokenExpires: Int64?
        if let idToken = answer?["id_token"]?.stringValue {
            let claims: JSONObject
            switch client.check(idToken, now: now) {
            case .failure(let why): return ended("the refreshed ID token \(why.message)")
            case .success(let verified): claims = verified
            }
            if let name = SessionRefresh.changedIdentity(from: session.claims, to: claims) {
                return ended("the refreshed ID token names another \(name) than the session")
            }
            fresh.claims = CodeExchange.kept(claims)
            fresh.idToken = idToken
            if case .integer(let exp)? = claims["exp"] { tokenExpires = exp }
        } else if case .integer(let seconds)? = answer?["expires_in"], seconds > 0 {
            tokenExpires = now + seconds
        }
        // RFC 6749 §6: a new refresh token replaces the old one, else the old one stays.
        let refresh = answer?["refresh_token"]?.stringValue ?? refreshToken
        fresh.refreshAt = tokenExpires.flatMap {
            SessionContents.refreshTime(
                tokenExpires: $0, now: now, window: client.settings.refreshBefore, sessionEnds: session.expires)
        }
        fresh.refreshToken = fresh.refreshAt == nil ? nil : refresh
        fresh.idleDeadline = min(session.expires, now + client.settings.idleTimeout)
        var log = [(error: Bool, text: String)]()
        switch client.seal(&fresh, maxAge: session.expires - now, log: &log) {
        case .failure: return kept("the refreshed session cannot be sealed in cookies")
        case .success(let fields):
            log.append((false, "gatehouse: refreshed the session of \(fresh.claims["sub"]?.stringValue ?? "?")"))
            return (.refreshed(fresh, fields), log.map { ($0.error ? .error : .notice, $0.text) })
        }
    }
}
