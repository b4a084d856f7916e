/// Tokens whose signature verified, so that the same token again costs no crypto and no JSON
/// parsing. Bounded (the oldest entry goes first), keyed by the whole token (an ECDSA signature
/// is malleable, so never by the signature alone), and an entry never outlives its `exp`.
/// An entry remembers the key that verified it and counts only while that key is still one of
/// the keys in force: a context with other keys, or a reloaded key set, verifies afresh.
///
/// Not thread-safe: one per lighttpd worker process (lighttpd handles requests on one thread).
public final class TokenCache {
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
    private var entries: BoundedStore<Key, CachedToken>

    public init(capacity: Int) {
        entries = BoundedStore(capacity: capacity)
    }

    public var count: Int { entries.count }
    /// Lookups answered from the cache, and lookups that had to verify.
    public private(set) var hits = 0
    public private(set) var misses = 0

    func lookup(_ token: String, keys: KeySet, now: Int64) -> CachedToken? {
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
        return entry
    }

    func insert(_ token: String, _ entry: CachedToken, now: Int64) {
        guard Double(now) < entry.expiry else { return }
        entries.set(entry, for: Key(token: token))
    }

    public func removeAll() {
        entries.removeAll()
    }
}

/// A verified token as the cache keeps it (also made, and not kept, where there is no cache): its
/// claims with the identities derived from them (not its JOSE header: what the checks read of it
/// is in the facts), the facts its context's checks read, and the key that verified it.
final class CachedToken {
    let verified: VerifiedClaims
    let facts: TokenFacts
    let key: VerificationKey
    /// `exp` (a token without one is never kept).
    let expiry: Double

    init(claims: JSONObject, facts: TokenFacts, key: VerificationKey) {
        verified = VerifiedClaims(claims)
        self.facts = facts
        self.key = key
        expiry = facts.expiry ?? -.infinity
    }
}
