/// What sign-in remembers in one lighttpd process (the event loop's thread only).
struct SignInMemory {
    /// The `state` of each login finished here until it expires: a callback is used once.
    var consumed = BoundedStore<String, Int64>(capacity: 100_000)
    /// Session cookies opened lately, with the keys that opened them: a session seen again skips
    /// the decryption and the JSON parsing (its ends are still checked on every request).
    var sessions = BoundedStore<String, (keys: [[UInt8]], contents: SessionContents)>(capacity: 10_000)

    /// The contents of a sealed session, opened with `keys` now or earlier.
    mutating func open(_ sealed: String, keys: SessionKeys) -> SessionContents? {
        if let seen = sessions[sealed], seen.keys == keys.keys { return seen.contents }
        guard let contents = SessionContents.open(sealed, keys: keys) else { return nil }
        sessions.set((keys.keys, contents), for: sealed)
        return contents
    }
}
