#if canImport(Glibc)
    import Glibc
#endif

/// Signatures verified off lighttpd's event loop (gatehouse.verify-threads): a token the cache does
/// not hold is verified by a worker thread of a pool of its own while its request waits, suspended,
/// and the event loop answers other requests. When the job completes, the loop puts the token in the
/// cache and runs each waiting request's decision again, which finds the verification settled
/// (docs/architecture.md, "Signatures off the event loop").
///
/// Requests that present the same token in the same context while it is being verified wait for the
/// same job (one verification, however many requests). The pool's queue is bounded
/// (gatehouse.verify-queue): a token that finds it full is answered 503 with `Retry-After`.
/// Used from the event loop only; the worker threads see only what a job copied.
final class SignatureJobs {
    let pool: JobPool
    /// The ids of this pool's jobs have this bit set; the sign-in pool's never do.
    static let idBit: UInt64 = 1 << 63

    /// What a job verifies: a token, with the keys and requirements of the context that asked.
    private struct Flight: Hashable {
        let token: String
        let requirements: TokenRequirements
        let keys: [ObjectIdentifier]

        /// The token's hash alone, as the cache hashes it (equality compares every field). Flights
        /// are of tokens not verified yet, so their tails can be chosen to collide: there are at most
        /// gatehouse.verify-queue of them.
        func hash(into hasher: inout Hasher) {
            TailHashedKey(text: token).hash(into: &hasher)
        }

        static func == (a: Flight, b: Flight) -> Bool {
            a.token.sameBytes(b.token) && a.requirements == b.requirements && a.keys == b.keys
        }
    }

    /// A worker's answer, written by the worker before the job completes and read by the loop after
    /// the pool hands the completion over (the pool's lock orders the two).
    private final class Answer: @unchecked Sendable {
        var verified: Result<(token: VerifiedToken, facts: TokenFacts, key: VerificationKey), TokenError>?
    }

    private struct Job {
        let flight: Flight
        let answer: Answer
        /// Where a verified token goes when the job completes.
        let cache: TokenCache
        let now: Int64
        /// Requests waiting for the job (resumed or reset requests count themselves off).
        var waiters = 1
        /// Set when the job completed: what the waiting requests are decided with.
        var settled: Result<CachedToken, TokenError>?
    }

    private var jobs: [UInt64: Job] = [:]
    private var flying: [Flight: UInt64] = [:]

    init(pool: JobPool) {
        self.pool = pool
    }

    static func owns(_ id: UInt64) -> Bool { id & idBit != 0 }

    /// How the decision goes on with a token the request presents.
    enum Step {
        /// Verified already (the cache, or the job the request waited for): the answer.
        case settled(Result<CachedToken, TokenError>)
        /// The request waits for job `id`.
        case waiting(UInt64)
        /// The queue is full: 503.
        case busy
        /// The request waited for job `resumed`, and its deadline passed before the job settled: 504.
        case unsettled
        /// Cheaper on the loop than handing over: verify it there.
        case onLoop
    }

    /// What becomes of `token` in a decision: `resumed` is the job the request waited for, if any.
    func verification(
        of token: String, keys: KeySet, requirements: TokenRequirements, now: Int64, cache: TokenCache,
        resumed: UInt64?
    ) -> Step {
        // (in a child forked by server.graceful-restart-bg no job settles: the token is verified on the loop)
        if let resumed, jobs[resumed]?.settled == nil, !pool.isForked { return .unsettled }
        // (a key reloaded away while the job ran no longer vouches for the token: verified again)
        if let resumed, let job = jobs[resumed], let settled = job.settled, job.flight.token.sameBytes(token),
            (try? settled.get()).map({ entry in keys.keys.contains { $0 === entry.key } }) ?? true
        {
            return .settled(
                settled.flatMap { entry in
                    entry.facts.check(requirements, now: now).map { .failure($0) } ?? .success(entry)
                })
        }
        if let known = TokenVerifier.cached(token, keys: keys, requirements: requirements, now: now, cache: cache) {
            return .settled(known)
        }
        // A forked pool has no threads; without a cache the request would find nothing when it
        // resumes; an HMAC is cheaper than the hand-over; an oversized token is refused before any work.
        guard !pool.isForked, cache.capacity > 0, token.utf8.count <= TokenVerifier.maximumLength,
            keys.keys.contains(where: { $0.kind != .hmac })
        else { return .onLoop }
        // The threads start with the first token that needs them (keys of HMAC secrets only never do);
        // when none can be created, tokens stay on the loop.
        if !pool.started { pool.start() }
        guard pool.started else { return .onLoop }
        let requirements = cache.keeping(requirements)
        let flight = Flight(token: token, requirements: requirements, keys: keys.keys.map(ObjectIdentifier.init))
        if let id = flying[flight] {
            jobs[id]?.waiters += 1
            return .waiting(id)
        }
        let answer = Answer()
        let submitted = pool.submit { _ in
            var bytes = token
            answer.verified = bytes.withUTF8 {
                TokenVerifier.verifyInFull($0, keys: keys, requirements: requirements, now: now)
            }
            return JobResult(status: 0)
        }
        guard let id = submitted else { return .busy }
        jobs[id] = Job(flight: flight, answer: answer, cache: cache, now: now)
        flying[flight] = id
        return .waiting(id)
    }

    /// Job `id` completed (the loop drained it): a verified token goes into the cache, and the
    /// requests waiting for it will find its answer.
    func settle(_ id: UInt64) {
        _ = pool.take(id)
        guard var job = jobs[id] else { return }
        flying[job.flight] = nil
        switch job.answer.verified {
        case .success(let verified):
            let entry = CachedToken(verified)
            job.cache.insert(job.flight.token, entry, now: job.now)
            job.settled = .success(entry)
        case .failure(let error):
            job.settled = .failure(error)
        case nil: break  // (cancelled as the server stops: a request still waiting is answered 504)
        }
        jobs[id] = job
    }

    /// A request waiting for job `id` is done with it (decided, timed out or gone): when it was the
    /// last, the job is forgotten, and cancelled if it still runs.
    func release(_ id: UInt64) {
        guard var job = jobs[id] else { return }
        job.waiters -= 1
        guard job.waiters == 0 else {
            jobs[id] = job
            return
        }
        jobs[id] = nil
        if job.settled == nil {
            flying[job.flight] = nil
            pool.discard(id)
        }
    }

    /// Seconds a request waits for its token's verification at most (then 504): far more than a
    /// full queue takes.
    static let deadline: Int64 = 10

    /// The verify threads' nice value over the event loop's: when the CPUs are busy, the loop (which
    /// answers cached tokens and static files) runs before another signature does.
    static let niceness: Int32 = 10

    /// gatehouse.verify-threads unset: as many threads as the CPUs this process may run on (its
    /// affinity: `taskset`, systemd's CPUAffinity=), at most 4; none when that is one CPU, where
    /// handing a signature over to a thread would only add work to the one core.
    static var defaultThreads: Int {
        let usable = allowedCPUs() ?? sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return usable > 1 ? min(4, usable) : 0
    }

    /// The CPUs of this process's affinity mask: the bits of "Cpus_allowed:" in /proc/self/status
    /// (hexadecimal, groups of 32 bits separated by commas); nil when it cannot be read.
    static func allowedCPUs() -> Int? {
        guard let status = try? FileBytes.read(path: "/proc/self/status", limit: 1 << 16) else { return nil }
        let key = Array("Cpus_allowed:".utf8)
        for line in status.split(separator: UInt8(ascii: "\n")) where line.starts(with: key) {
            return line.dropFirst(key.count).reduce(0) { count, byte in
                count + (Int(hexDigit: byte)?.nonzeroBitCount ?? 0)
            }
        }
        return nil
    }
}

extension Int {
    /// The value of one hexadecimal digit; nil for any other byte.
    fileprivate init?(hexDigit byte: UInt8) {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): self = Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): self = Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): self = Int(byte - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }
}
