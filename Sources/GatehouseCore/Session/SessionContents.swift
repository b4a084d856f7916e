internal import COpenSSL

/// What the session cookie holds, sealed (docs/browser-sign-in.md, "What the cookie holds"):
/// the claims rules and identity headers read, when the session ends, when it ends for want of
/// use, the ID token for the provider's logout when it fits, and the refresh token with the time
/// to use it when the provider issued one.
public struct SessionContents: Sendable {
    public var claims: JSONObject
    /// Unix time the session ends (gatehouse.session-lifetime after sign-in).
    public var expires: Int64
    /// Unix time the session ends unless used (gatehouse.session-idle-timeout after last use).
    public var idleDeadline: Int64
    /// The ID token, for `id_token_hint` at the provider's logout.
    public var idToken: String?
    /// The refresh token (RFC 6749 §6), and the Unix time from which a request refreshes the
    /// session with it; both nil when the session is not refreshed.
    public var refreshToken: String?
    public var refreshAt: Int64?

    public init(
        claims: JSONObject, expires: Int64, idleDeadline: Int64, idToken: String?, refreshToken: String? = nil,
        refreshAt: Int64? = nil
    ) {
        self.claims = claims
        self.expires = expires
        self.idleDeadline = idleDeadline
        self.idToken = idToken
        self.refreshToken = refreshToken
        self.refreshAt = refreshAt
    }

    var json: JSON {
        var members: [(key: String, value: JSON)] = [
            ("v", .integer(1)), ("exp", .integer(expires)), ("idle", .integer(idleDeadline)),
            ("claims", .object(claims)),
        ]
        if let idToken { members.append(("idt", .string(idToken))) }
        if let refreshToken, let refreshAt {
            members += [("rt", .string(refreshToken)), ("ra", .integer(refreshAt))]
        }
        return .object(JSONObject(members: members))
    }

    init?(json: JSON) {
        guard let object = json.objectValue, case .integer(1)? = object["v"],
            case .integer(let expires)? = object["exp"], case .integer(let idle)? = object["idle"],
            let claims = object["claims"]?.objectValue
        else { return nil }
        var refreshAt: Int64?
        if case .integer(let at)? = object["ra"] { refreshAt = at }
        let refreshToken = object["rt"]?.stringValue
        self.init(
            claims: claims, expires: expires, idleDeadline: idle, idToken: object["idt"]?.stringValue,
            refreshToken: refreshAt == nil ? nil : refreshToken, refreshAt: refreshToken == nil ? nil : refreshAt)
    }

    /// Sealed for the session cookie.
    public func seal(keys: SessionKeys) -> String? {
        Sealer.seal(Array(json.serialized.utf8), name: Cookies.session, keys: keys)
    }

    /// Opens a session cookie's value: nil when it does not open or does not hold a session.
    public static func open(_ value: String, keys: SessionKeys) -> SessionContents? {
        guard let plaintext = Sealer.open(value, name: Cookies.session, keys: keys),
            case .success(let json) = JSON.parse(plaintext)
        else { return nil }
        return SessionContents(json: json)
    }

    /// Whether a request at `now` refreshes the session first.
    func refreshDue(now: Int64) -> Bool {
        guard refreshToken != nil, let refreshAt else { return false }
        return now >= refreshAt
    }

    /// When a session whose identity the provider vouches for until `tokenExpires` refreshes:
    /// `window` seconds before then, but never sooner than halfway there (a token that lives
    /// less than the window is not refreshed on every request); nil when `window` is 0, or the
    /// session ends first.
    static func refreshTime(tokenExpires: Int64, now: Int64, window: Int64, sessionEnds: Int64) -> Int64? {
        guard window > 0 else { return nil }
        let at = max(now + max(0, tokenExpires - now) / 2, tokenExpires - window)
        return at < sessionEnds ? at : nil
    }

    /// Sealed in the cookies a browser accepts: when the session does not fit, the ID token is
    /// left out, then the refresh token, then the largest claims not in `essential`, each
    /// omission logged; nil when even the essential claims do not fit (or sealing fails, `why`).
    mutating func sealToFit(
        keys: SessionKeys, maxAge: Int64, essential: Set<String>, log: inout [(error: Bool, text: String)]
    ) -> Result<[(name: String, value: String)], SealFailure> {
        while true {
            guard let sealed = seal(keys: keys) else { return .failure(.sealing) }
            if let fields = Cookies.sessionFields(sealed, maxAge: maxAge) { return .success(fields) }
            if idToken != nil {
                idToken = nil
                log.append(
                    (false, "gatehouse: the session is too large for the ID token: logout sends no id_token_hint"))
                continue
            }
            if refreshToken != nil {
                refreshToken = nil
                refreshAt = nil
                log.append(
                    (false, "gatehouse: the session is too large for the refresh token: it will not be refreshed"))
                continue
            }
            var kept = claims.members
            guard
                let largest = kept.indices.filter({ !essential.contains(kept[$0].key) })
                    .max(by: { kept[$0].value.serialized.utf8.count < kept[$1].value.serialized.utf8.count })
            else { return .failure(.tooLarge) }
            log.append((false, "gatehouse: the session is too large: claim \(kept[largest].key) left out"))
            kept.remove(at: largest)
            claims = JSONObject(members: kept)
        }
    }

    enum SealFailure: Error { case sealing, tooLarge }

    /// Why the session no longer holds at `now`; nil while it does.
    public func ended(now: Int64) -> String? {
        if now >= expires { return "the session ended (gatehouse.session-lifetime)" }
        if now >= idleDeadline { return "the session was idle too long (gatehouse.session-idle-timeout)" }
        return nil
    }
}

/// A login in progress, sealed in the short-lived login cookie of the browser that started it.
struct LoginState: Sendable {
    var state: String
    var nonce: String
    var verifier: String
    /// Where to return after sign-in: a same-origin path (ReturnTarget).
    var target: String
    var expires: Int64

    static let lifetime: Int64 = 600

    /// A fresh login: 32 random bytes each for state, nonce and verifier.
    static func fresh(target: String, now: Int64) -> LoginState? {
        guard let state = Sealer.random(32), let nonce = Sealer.random(32), let verifier = Sealer.random(32) else {
            return nil
        }
        return LoginState(
            state: Base64URL.encode(state), nonce: Base64URL.encode(nonce), verifier: Base64URL.encode(verifier),
            target: target, expires: now + lifetime)
    }

    func seal(keys: SessionKeys) -> String? {
        let json = JSON.object(
            JSONObject(members: [
                ("s", .string(state)), ("n", .string(nonce)), ("v", .string(verifier)), ("t", .string(target)),
                ("exp", .integer(expires)),
            ]))
        return Sealer.seal(Array(json.serialized.utf8), name: Cookies.login, keys: keys)
    }

    static func open(_ value: String, keys: SessionKeys) -> LoginState? {
        guard let plaintext = Sealer.open(value, name: Cookies.login, keys: keys),
            case .success(let json) = JSON.parse(plaintext), let object = json.objectValue,
            let state = object["s"]?.stringValue, let nonce = object["n"]?.stringValue,
            let verifier = object["v"]?.stringValue, let target = object["t"]?.stringValue,
            case .integer(let expires)? = object["exp"]
        else { return nil }
        return LoginState(state: state, nonce: nonce, verifier: verifier, target: target, expires: expires)
    }

    /// The PKCE S256 challenge of the verifier (RFC 7636 §4.2).
    var challenge: String {
        var digest = [UInt8](repeating: 0, count: 32)
        let bytes = Array(verifier.utf8)
        _ = bytes.withUnsafeBufferPointer { SHA256($0.baseAddress, $0.count, &digest) }
        return Base64URL.encode(digest)
    }
}
