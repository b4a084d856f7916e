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
        let key: VerificationKey
        let expiry: Double
    }

    public let capacity: Int
    private var entries: [String: Entry] = [:]
    /// Insertion order, as a ring: the slot to reuse next is `oldest`.
    private var order: [String] = []
    private var oldest = 0

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
        entries.reserveCapacity(self.capacity)
    }

    public var count: Int { entries.count }
    /// Lookups answered from the cache, and lookups that had to verify.
    public private(set) var hits = 0
    public private(set) var misses = 0

    func lookup(_ token: UnsafeBufferPointer<UInt8>, keys: KeySet, now: Int64) -> VerifiedToken? {
        guard capacity > 0 else { return nil }
        let text = String(decoding: token, as: UTF8.self)
        guard let entry = entries[text], keys.keys.contains(where: { $0 === entry.key }) else {
            misses += 1
            return nil
        }
        guard Double(now) < entry.expiry else {
            entries[text] = nil
            misses += 1
            return nil
        }
        hits += 1
        return entry.token
    }

    func insert(_ token: UnsafeBufferPointer<UInt8>, _ verified: VerifiedToken, key: VerificationKey,
                expiry: Double, now: Int64) {
        guard capacity > 0, Double(now) < expiry else { return }
        let text = String(decoding: token, as: UTF8.self)
        if entries.updateValue(Entry(token: verified, key: key, expiry: expiry), forKey: text) != nil { return }
        if order.count < capacity {
            order.append(text)
        } else {
            entries[order[oldest]] = nil
            order[oldest] = text
            oldest = (oldest + 1) % capacity
        }
    }

    public func removeAll() {
        entries.removeAll(keepingCapacity: true)
        order.removeAll(keepingCapacity: true)
        oldest = 0
    }
}
