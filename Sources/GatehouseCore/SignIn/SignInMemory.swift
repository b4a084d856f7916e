/// What sign-in remembers in one lighttpd process (the event loop's thread only).
struct SignInMemory {
    /// The `state` of each login finished here until it expires: a callback is used once.
    var consumed = BoundedStore<String, Int64>(capacity: 100_000)
    /// Session cookies opened lately, with the keys that opened them: a session seen again skips
    /// the decryption, the JSON parsing and the identity's derivation (its ends are still checked
    /// on every request).
    var sessions = BoundedStore<TailHashedKey, (keys: [[UInt8]], session: OpenedSession)>(capacity: 10_000)
    /// The outcome of each refresh settled lately, by the refresh token it used, until the Unix
    /// time given: the requests a browser sent with the old cookie meanwhile get the refreshed
    /// session without another call, and a provider that is down is not asked on every request.
    var refreshed = BoundedStore<String, (outcome: SessionRefresh.Outcome, until: Int64)>(capacity: 10_000)

    /// Seconds a settled refresh is remembered.
    static let refreshRemembered: Int64 = 30

    /// A sealed session, opened with `keys` now or earlier.
    mutating func open(_ sealed: String, keys: SessionKeys) -> OpenedSession? {
        let key = TailHashedKey(text: sealed)
        if let seen = sessions[key], seen.keys == keys.keys { return seen.session }
        guard let contents = SessionContents.open(sealed, keys: keys) else { return nil }
        let session = OpenedSession(contents: contents, verified: VerifiedClaims(contents.claims))
        sessions.set((keys.keys, session), for: key)
        return session
    }

    /// What became of the refresh with `token`, when it settled lately.
    func refreshOutcome(_ token: String, now: Int64) -> SessionRefresh.Outcome? {
        guard let settled = refreshed[token], settled.until > now else { return nil }
        return settled.outcome
    }
}

/// A session cookie's contents, and its claims with the identities derived from them.
struct OpenedSession {
    let contents: SessionContents
    let verified: VerifiedClaims
}
