/// Tokens whose signature verified, so that the same token again costs no crypto and no JSON
/// parsing. Bounded (the oldest entry goes first), keyed by the whole token (an ECDSA signature
/// is malleable, so never by the signature alone), and an entry never outlives its `exp`.
/// An entry remembers the key that verified it and counts only while that key is still one of
/// the keys in force: a context with other keys, or a reloaded key set, verifies afresh.
///
/// Not thread-safe: one per lighttpd worker process (lighttpd handles requests on one thread).
public final class TokenCache {
    private struct Entry {
        let token: VerifiedToken
        let facts: TokenFacts
        let key: VerificationKey
        let expiry: Double
    }

    /// A token (the request's own string: nothing is copied to look it up). Hashing reads the
    /// length and the last 32 bytes (signature bytes, which nobody can choose without the
    /// signing key: only verified tokens are ever inserted); equality compares every byte.
    private struct Key: Hashable {
        let token: String

        func hash(into hasher: inout Hasher) {
            let utf8 = token.utf8
            hasher.combine(utf8.count)
            let hashed: Void? = utf8.withContiguousStorageIfAvailable { bytes in
                hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes).suffix(32)))
            }
            if hashed == nil { for byte in utf8.suffix(32) { hasher.combine(byte) } }
        }

        static func == (a: Key, b: Key) -> Bool { a.token.sameBytes(b.token) }
    }

    public var capacity: Int { entries.capacity }
    private var entries: BoundedStore<Key, Entry>

    public init(capacity: Int) {
        entries = BoundedStore(capacity: capacity)
    }

    public var count: Int { entries.count }
    /// Lookups answered from the cache, and lookups that had to verify.
    public private(set) var hits = 0
    public private(set) var misses = 0

    func lookup(_ token: String, keys: KeySet, now: Int64) -> (VerifiedToken, TokenFacts)? {
        guard capacity > 0 else { return nil }
        let tokenKey = Key(token: token)
        guard let entry = entries[tokenKey], keys.keys.contains(where: { $0 === entry.key }) else {
            misses += 1
            return nil
        }
        guard Double(now) < entry.expiry else {
            entries.remove(tokenKey)
            misses += 1
            return nil
        }
        hits += 1
        return (entry.token, entry.facts)
    }

    func insert(_ token: String, _ verified: VerifiedToken, facts: TokenFacts, key: VerificationKey, now: Int64) {
        guard let expiry = facts.expiry, Double(now) < expiry else { return }
        let tokenKey = Key(token: token)
        entries.set(Entry(token: verified, facts: facts, key: key, expiry: expiry), for: tokenKey)
    }

    public func removeAll() {
        entries.removeAll()
    }
}
