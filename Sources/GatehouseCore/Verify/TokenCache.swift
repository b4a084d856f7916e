/// Tokens whose signature verified, so that the same token again costs no crypto and no JSON
/// parsing. Bounded (the oldest entry goes first), keyed by the whole token (an ECDSA signature
/// is malleable, so never by the signature alone), and an entry never outlives its `exp`.
/// An entry remembers the key that verified it and counts only while that key is still one of
/// the keys in force: a context with other keys, or a reloaded key set, verifies afresh.
///
/// Not thread-safe: one per lighttpd worker process (lighttpd handles requests on one thread).
public final class TokenCache {
    public var capacity: Int { entries.capacity }
    /// Keyed by the token (TailHashedKey: signature bytes end it, and only verified tokens go in).
    private var entries: BoundedStore<TailHashedKey, CachedToken>

    public init(capacity: Int) {
        entries = BoundedStore(capacity: capacity)
    }

    public var count: Int { entries.count }
    /// Lookups answered from the cache, and lookups that had to verify.
    public private(set) var hits = 0
    public private(set) var misses = 0

    /// The entry of `token`, if it was verified with a key of `keys`, has not expired and keeps the
    /// claims `names` (else the token is verified again, keeping those too).
    func lookup(_ token: String, keys: KeySet, reading names: ClaimNames, now: Int64) -> CachedToken? {
        guard capacity > 0 else { return nil }
        let tokenKey = TailHashedKey(text: token)
        guard let entry = entries[tokenKey], keys.keys.contains(where: { $0 === entry.key }), entry.keeps(names)
        else {
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

    /// The claims a token verified now keeps: those of every context that verified one, so that a
    /// token used in contexts reading other claims is verified again once, not once per context.
    private var kept = ClaimNames([])
    private var lastAdded: ClaimNames?

    /// `requirements` keeping the claims tokens verified for the cache keep.
    func keeping(_ requirements: TokenRequirements) -> TokenRequirements {
        if requirements.claims !== lastAdded {
            kept = kept.union(requirements.claims)
            lastAdded = requirements.claims
        }
        var widened = requirements
        widened.claims = kept
        return widened
    }

    func insert(_ token: String, _ entry: CachedToken, now: Int64) {
        guard Double(now) < entry.expiry else { return }
        entries.set(entry, for: TailHashedKey(text: token))
    }

    public func removeAll() {
        entries.removeAll()
    }
}

/// A verified token as the cache keeps it (also made, and not kept, where there is no cache): the
/// claims some context reads with the identities derived from them (it is their VerifiedClaims, one
/// object), the facts its context's checks read (not its JOSE header), and the key that verified it.
final class CachedToken: VerifiedClaims {
    var verified: VerifiedClaims { self }
    let facts: TokenFacts
    let key: VerificationKey
    /// `exp` (a token without one is never kept).
    var expiry: Double { facts.expiry ?? -.infinity }
    /// Names found among the kept claims lately (a context's, usually the same object every time).
    private var covered: ClaimNames?

    /// The entry of a token `TokenVerifier.verifyInFull` verified.
    init(_ verified: (token: VerifiedToken, facts: TokenFacts, key: VerificationKey)) {
        facts = verified.facts
        key = verified.key
        super.init(verified.token.claims)
    }

    /// Whether the claims kept hold each claim of `names`.
    func keeps(_ names: ClaimNames) -> Bool {
        if names === facts.kept || names === covered { return true }
        guard facts.kept.covers(names) else { return false }
        covered = names
        return true
    }
}
