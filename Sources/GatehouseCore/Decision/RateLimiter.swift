/// `gatehouse.rate-limit`: token buckets per caller (the token's `sub`, or the client address
/// without a valid token) and per limit, refilled continuously. Memory is bounded: past
/// `capacity` callers the oldest bucket is dropped (a dropped caller starts full again).
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
    }

    private var buckets: BoundedStore<String, Bucket>

    public init(capacity: Int = 100_000) {
        buckets = BoundedStore(capacity: capacity)
    }

    /// Takes one request from the caller's bucket for `limit`; returns nil when allowed, or
    /// the seconds until the next request would be.
    func take(_ limit: Limit, caller: String, now: Int64) -> Int? {
        let key = "\(limit.description)\u{0}\(caller)"
        let rate = Double(limit.requests) / Double(limit.seconds)
        var bucket = buckets[key] ?? Bucket(tokens: Double(limit.requests), updated: now)
        let elapsed = Double(max(0, now - bucket.updated))
        bucket.tokens = min(Double(limit.requests), bucket.tokens + elapsed * rate)
        bucket.updated = now
        var wait: Int?
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
        } else {
            wait = max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
        buckets.set(bucket, for: key)
        return wait
    }
}
