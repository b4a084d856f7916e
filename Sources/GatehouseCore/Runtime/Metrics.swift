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
    private var verificationBuckets = [Int](repeating: 0, count: Metrics.bounds.count + 1)
    private var verificationSum = 0.0
    var keyReloads = 0
    var keyLoadErrors = 0
    var rateLimitEvictions = 0
    var rateLimitOverflows = 0
    /// Sign-in callbacks refused 503 because the off-loop queue was full.
    var signInQueueFull = 0

    public init() {}

    func count(_ decision: Decision) {
        let outcome =
            decision.diagnostics.wouldRefuse != nil ? "report_only_deny" : decision.verdict.allowed ? "allow" : "deny"
        decisions[DecisionKey(outcome: outcome, reason: decision.verdict.reason), default: 0] += 1
    }

    /// Times `body` into the verification histogram.
    func timeVerification<T>(_ body: () -> T) -> T {
        let start = Metrics.monotonic()
        let result = body()
        let seconds = Metrics.monotonic() - start
        verificationSum += seconds
        verificationBuckets[Metrics.bounds.firstIndex { seconds <= $0 } ?? Metrics.bounds.count] += 1
        return result
    }

    static func monotonic() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }

    /// The exposition: decisions, the token cache, the key files and verification times.
    func text(cache: TokenCache?, keys: [KeySource], now: Int64) -> String {
        var out = "# HELP gatehouse_decisions_total Decisions by outcome and reason code.\n"
        out += "# TYPE gatehouse_decisions_total counter\n"
        let sorted = decisions.sorted {
            ($0.key.outcome, $0.key.reason.rawValue) < ($1.key.outcome, $1.key.reason.rawValue)
        }
        for (key, value) in sorted {
            out += "gatehouse_decisions_total{outcome=\"\(key.outcome)\",reason=\"\(key.reason.rawValue)\"} \(value)\n"
        }
        out += "# HELP gatehouse_token_cache_hits_total Tokens found in the verified-token cache.\n"
        out += "# TYPE gatehouse_token_cache_hits_total counter\n"
        out += "gatehouse_token_cache_hits_total \(cache?.hits ?? 0)\n"
        out += "# HELP gatehouse_token_cache_misses_total Tokens verified in full.\n"
        out += "# TYPE gatehouse_token_cache_misses_total counter\n"
        out += "gatehouse_token_cache_misses_total \(cache?.misses ?? 0)\n"
        out += "# HELP gatehouse_token_cache_entries Tokens in the verified-token cache.\n"
        out += "# TYPE gatehouse_token_cache_entries gauge\n"
        out += "gatehouse_token_cache_entries \(cache?.count ?? 0)\n"
        out += "# HELP gatehouse_key_set_age_seconds Seconds since each key file was last loaded.\n"
        out += "# TYPE gatehouse_key_set_age_seconds gauge\n"
        for source in keys {
            out += "gatehouse_key_set_age_seconds{file=\"\(Metrics.label(source.path))\"} \(now - source.loaded)\n"
        }
        out += "# HELP gatehouse_key_reloads_total Key files read again after they changed.\n"
        out += "# TYPE gatehouse_key_reloads_total counter\ngatehouse_key_reloads_total \(keyReloads)\n"
        out += "# HELP gatehouse_key_load_errors_total Changed key files refused (the last good keys stayed).\n"
        out += "# TYPE gatehouse_key_load_errors_total counter\ngatehouse_key_load_errors_total \(keyLoadErrors)\n"
        out +=
            "# HELP gatehouse_rate_limit_evictions_total Rate-limit buckets dropped to make room for a new "
            + "caller (never one refusing its caller).\n"
        out += "# TYPE gatehouse_rate_limit_evictions_total counter\n"
        out += "gatehouse_rate_limit_evictions_total \(rateLimitEvictions)\n"
        out +=
            "# HELP gatehouse_rate_limit_overflow_total Requests of new callers charged to the shared overflow "
            + "bucket: every bucket looked at was refusing its caller.\n"
        out += "# TYPE gatehouse_rate_limit_overflow_total counter\n"
        out += "gatehouse_rate_limit_overflow_total \(rateLimitOverflows)\n"
        out +=
            "# HELP gatehouse_sign_in_queue_full_total Sign-in callbacks answered 503: the provider calls "
            + "queued or running reached the bound.\n"
        out += "# TYPE gatehouse_sign_in_queue_full_total counter\n"
        out += "gatehouse_sign_in_queue_full_total \(signInQueueFull)\n"
        out += "# HELP gatehouse_verification_seconds Time to verify a presented token (cache hits included).\n"
        out += "# TYPE gatehouse_verification_seconds histogram\n"
        var cumulative = 0
        for (index, bound) in Metrics.bounds.enumerated() {
            cumulative += verificationBuckets[index]
            out += "gatehouse_verification_seconds_bucket{le=\"\(bound)\"} \(cumulative)\n"
        }
        cumulative += verificationBuckets[Metrics.bounds.count]
        out += "gatehouse_verification_seconds_bucket{le=\"+Inf\"} \(cumulative)\n"
        out += "gatehouse_verification_seconds_sum \(verificationSum)\n"
        out += "gatehouse_verification_seconds_count \(cumulative)\n"
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
