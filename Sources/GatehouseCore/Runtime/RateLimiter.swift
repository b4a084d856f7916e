/// `gatehouse.rate-limit`: token buckets per caller (the token's issuer and `sub`, or the client
/// address without a valid token) and per limit, refilled continuously. Memory is bounded: past
/// `capacity` buckets, a new caller takes the place of a bucket that has refilled to full (as
/// good as none) or else the fullest of a few looked at, never one that is refusing its caller;
/// when all of those are refusing, the newcomer shares one overflow bucket per limit.
/// Not thread-safe: one per lighttpd process.
public final class RateLimiter {
    /// One `"METHODS" => "N/unit"` entry; `*` takes every method.
    public struct Limit: Sendable, Equatable {
        public let methods: [String]?
        public let requests: Int
        public let seconds: Int
        public let description: String

        public init?(methods: String, rate: String) {
            description = "\(methods) => \(rate)"
            if methods == "*" {
                self.methods = nil
            } else {
                let names = methods.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard names.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (0x41...0x5A).contains($0) } }) else {
                    return nil
                }
                self.methods = names
            }
            let parts = rate.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let count = Int(parts[0]), count > 0, count <= 1_000_000 else { return nil }
            let unit: Int? =
                switch parts[1] {
                case "second": 1
                case "minute": 60
                case "hour": 3600
                case "day": 86_400
                default: nil
                }
            guard let unit else { return nil }
            requests = count
            seconds = unit
        }

        func applies(to method: String) -> Bool {
            methods?.contains { $0.sameBytes(method) } ?? true
        }
    }

    private struct Bucket {
        var tokens: Double
        var updated: Int64
        let full: Double
        let rate: Double

        init(_ limit: Limit, now: Int64) {
            full = Double(limit.requests)
            rate = full / Double(limit.seconds)
            tokens = full
            updated = now
        }

        /// The tokens it holds at `now`, refilled since it was last used.
        func level(at now: Int64) -> Double {
            min(full, tokens + Double(max(0, now - updated)) * rate)
        }
    }

    /// Buckets looked at to find room for a new caller: the work per new caller is bounded,
    /// and the look-ups go round the whole table in turn.
    static let scanned = 16

    private let capacity: Int
    private var buckets: [String: Bucket] = [:]
    /// Every key of `buckets`, in a slot; `cursor` is the first slot the next search looks at.
    private var slots: [String] = []
    private var cursor = 0
    /// Per limit, the bucket of callers who found no room.
    private var overflow: [String: Bucket] = [:]

    public init(capacity: Int = 100_000) {
        self.capacity = max(1, capacity)
    }

    /// Takes one request from the caller's bucket for `limit`; returns nil when allowed, or
    /// the seconds until the next request would be.
    func take(_ limit: Limit, caller: String, now: Int64, metrics: Metrics? = nil) -> Int? {
        let key = "\(limit.description)\u{0}\(caller)"
        var bucket: Bucket
        if let known = buckets[key] {
            bucket = known
        } else if slots.count < capacity {
            slots.append(key)
            bucket = Bucket(limit, now: now)
        } else if let slot = room(now: now) {
            buckets[slots[slot]] = nil
            slots[slot] = key
            metrics?.rateLimitEvictions += 1
            bucket = Bucket(limit, now: now)
        } else {
            metrics?.rateLimitOverflows += 1
            var shared = overflow[limit.description] ?? Bucket(limit, now: now)
            let wait = RateLimiter.pay(&shared, now: now)
            overflow[limit.description] = shared
            return wait
        }
        let wait = RateLimiter.pay(&bucket, now: now)
        buckets[key] = bucket
        return wait
    }

    private static func pay(_ bucket: inout Bucket, now: Int64) -> Int? {
        bucket.tokens = bucket.level(at: now)
        bucket.updated = now
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            return nil
        }
        return max(1, Int(((1 - bucket.tokens) / bucket.rate).rounded(.up)))
    }

    /// The slot of the bucket to drop for a new caller, among the next `scanned`: the first one
    /// refilled to full, else the fullest (as a share of its limit) that could pay for a
    /// request now. nil when every one of them is refusing its caller.
    private func room(now: Int64) -> Int? {
        var best: (slot: Int, share: Double)?
        let count = min(RateLimiter.scanned, slots.count)
        defer { cursor = (cursor + count) % slots.count }
        for step in 0..<count {
            let slot = (cursor + step) % slots.count
            guard let bucket = buckets[slots[slot]] else { continue }
            let level = bucket.level(at: now)
            if level >= bucket.full { return slot }
            if level >= 1, level / bucket.full > best?.share ?? 0 { best = (slot, level / bucket.full) }
        }
        return best?.slot
    }
}
