/// What one lighttpd process keeps between requests, shared by every configuration context: the
/// verified-token cache, the rate limiter, the counters, the key files to reload, the audit chains
/// and the Configuration of each context. Created by gh_v1_engine_new, it outlives every setting
/// compiled with it. Used from lighttpd's one event-loop thread only (docs/architecture.md, "The C
/// boundary").
final class Runtime {
    let limiter = RateLimiter()
    let metrics = Metrics()
    let keyReloads = KeyReloads()
    let auditChains = AuditChains()
    let configurations = ConfigurationTable()
    /// Off-loop work (sign-in callbacks), when a context signs people in.
    var pool: JobPool?
    /// Signatures verified off the loop (gatehouse.verify-threads), when a context has keys.
    var signatures: SignatureJobs?
    /// Whether some context signs people in (gatehouse.login = "enable").
    var signsIn = false
    /// Consumed login states, sessions opened lately and refreshes settled lately.
    var signInMemory = SignInMemory()
    /// Session refreshes in flight on `pool`.
    let refreshes = Refreshes()
    private var tokens: TokenCache?

    /// The verified-token cache, sized by gatehouse.cache-size (a server-wide directive).
    func cache(for configuration: Configuration) -> TokenCache {
        if let tokens, tokens.capacity == configuration.cacheSize { return tokens }
        let fresh = TokenCache(capacity: configuration.cacheSize)
        tokens = fresh
        return fresh
    }

    /// Once a second: reads again the key files that changed; a reload empties the token cache.
    func tick(report: (Effects.LogLevel, String) -> Void) {
        if keyReloads.reloadChanged(metrics: metrics, report: report) { tokens?.removeAll() }
        let refused = metrics.verifyQueueFull - metrics.verifyQueueFullReported
        if refused > 0, let signatures {
            metrics.verifyQueueFullReported = metrics.verifyQueueFull
            report(
                .warning,
                "gatehouse: \(refused) requests answered 503 since the last report: \(signatures.pool.capacity) "
                    + "tokens were waiting for a verify thread already (gatehouse.verify-queue)")
        }
    }

    /// The counters of gatehouse.status-url.
    func statusText(now: Int64) -> String {
        metrics.text(cache: tokens, keys: keyReloads.sources, now: now)
    }
}
