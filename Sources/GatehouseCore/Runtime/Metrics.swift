#if canImport(Glibc)
    import Glibc
#endif

/// Counters for `gatehouse.status-url`, in Prometheus' text format (version 0.0.4). One set
/// per lighttpd process: each worker answers with its own.
public final class Metrics {
    /// Upper bounds of the verification-time histogram, in seconds.
    static let bounds: [Double] = [0.000_001, 0.000_005, 0.000_02, 0.000_05, 0.000_1, 0.000_25, 0.001, 0.01]

    private struct DecisionKey: Hashable {
        let outcome: String  // a static string: no allocation per request
        let reason: ReasonCode
    }

    private var decisions: [DecisionKey: Int] = [:]
    /// Requests allowed (`allow`, `allowed`): most of them, counted without hashing a key.
    private var allowed = 0
    private var verificationBuckets = [Int](repeating: 0, count: Metrics.bounds.count + 1)
    private var verificationSum = 0.0
    var keyReloads = 0
    var keyLoadErrors = 0
    var rateLimitEvictions = 0
    var rateLimitOverflows = 0
    /// Sign-in callbacks refused 503 because the off-loop queue was full.
    var signInQueueFull = 0
    /// Requests answered 503 because the queue of tokens waiting for a verify thread was full; and
    /// how many of them the error log has heard of.
    var verifyQueueFull = 0
    var verifyQueueFullReported = 0

    public init() {}

    func count(_ decision: Decision) {
        if decision.verdict.reason == .allowed, decision.verdict.allowed, decision.diagnostics.wouldRefuse == nil {
            allowed += 1
            return
        }
        let outcome =
            decision.diagnostics.wouldRefuse != nil ? "report_only_deny" : decision.verdict.allowed ? "allow" : "deny"
        decisions[DecisionKey(outcome: outcome, reason: decision.verdict.reason), default: 0] += 1
    }

    /// Counts a verification that started at `start` (`monotonic()`) and ends now in the histogram.
    func timeVerification(since start: Double) {
        let seconds = Metrics.monotonic() - start
        verificationSum += seconds
        verificationBuckets[Metrics.bounds.firstIndex { seconds <= $0 } ?? Metrics.bounds.count] += 1
    }

    static func monotonic() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }

    /// The exposition: decisions, the token cache, the key files and verification times.
    func text(cache: TokenCache?, keys: [KeySource], now: Int64) -> String {
        var out = ""
        /// A metric's HELP and TYPE lines, then its samples.
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        var decisions = decisions
        if allowed > 0 { decisions[DecisionKey(outcome: "allow", reason: .allowed)] = allowed }
        let sorted = decisions.sorted {
            ($0.key.outcome, $0.key.reason.rawValue) < ($1.key.outcome, $1.key.reason.rawValue)
        }
        metric(
            "gatehouse_decisions_total", "counter", "Decisions by outcome and reason code.",
            sorted.map { ("{outcome=\"\($0.key.outcome)\",reason=\"\($0.key.reason.rawValue)\"}", String($0.value)) })
        metric(
            "gatehouse_token_cache_hits_total", "counter", "Tokens found in the verified-token cache.",
            [("", String(cache?.hits ?? 0))])
        metric(
            "gatehouse_token_cache_misses_total", "counter",
            "Lookups of tokens not in the cache (each such token is verified in full, once however many "
                + "requests wait for it).",
            [("", String(cache?.misses ?? 0))])
        metric(
            "gatehouse_token_cache_entries", "gauge", "Tokens in the verified-token cache.",
            [("", String(cache?.count ?? 0))])
        metric(
            "gatehouse_key_set_age_seconds", "gauge", "Seconds since each key file was last loaded.",
            keys.map { ("{file=\"\(Metrics.label($0.path))\"}", String(now - $0.loaded)) })
        metric(
            "gatehouse_key_reloads_total", "counter", "Key files read again after they changed.",
            [("", String(keyReloads))])
        metric(
            "gatehouse_key_load_errors_total", "counter", "Changed key files refused (the last good keys stayed).",
            [("", String(keyLoadErrors))])
        metric(
            "gatehouse_rate_limit_evictions_total", "counter",
            "Rate-limit buckets dropped to make room for a new caller (never one refusing its caller).",
            [("", String(rateLimitEvictions))])
        metric(
            "gatehouse_rate_limit_overflow_total", "counter",
            "Requests of new callers charged to the shared overflow bucket: every bucket looked at was refusing "
                + "its caller.",
            [("", String(rateLimitOverflows))])
        metric(
            "gatehouse_sign_in_queue_full_total", "counter",
            "Sign-in callbacks answered 503: the provider calls queued or running reached the bound.",
            [("", String(signInQueueFull))])
        metric(
            "gatehouse_verify_queue_full_total", "counter",
            "Requests answered 503: the tokens waiting for a verify thread reached gatehouse.verify-queue.",
            [("", String(verifyQueueFull))])
        var cumulative = 0
        var buckets = [(labels: String, value: String)]()
        for (index, bound) in Metrics.bounds.enumerated() {
            cumulative += verificationBuckets[index]
            buckets.append(("_bucket{le=\"\(bound)\"}", String(cumulative)))
        }
        cumulative += verificationBuckets[Metrics.bounds.count]
        buckets += [
            ("_bucket{le=\"+Inf\"}", String(cumulative)), ("_sum", "\(verificationSum)"),
            ("_count", String(cumulative)),
        ]
        metric(
            "gatehouse_verification_seconds", "histogram",
            "Time the event loop spent verifying a presented token (cache hits included; a token handed "
                + "to a verify thread counts when its request is decided).", buckets)
        return out
    }

    /// A label value: backslash, quote and line breaks escaped.
    private static func label(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
