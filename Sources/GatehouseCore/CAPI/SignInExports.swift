internal import CGatehouse

// The off-loop functions of gatehouse.h (the sign-in pool and the verify threads), and what sign-in does
// around a decision.

extension Runtime {
    enum SignInOutcome {
        /// Answered, refused or suspended (an enum gh_v1_outcome, and the status) without the rules.
        case answered(Int32, status: Int32)
        /// Decide with the session's claims; these headers go out if the request is let through.
        case session(VerifiedClaims, [(name: String, value: String)])
        /// Decide as usual; these headers go out whatever the answer (the cookies of a session the
        /// provider ended, cleared).
        case decide([(name: String, value: String)])
    }

    /// What sign-in does with a request; `resumed`: the job it waited for, or 0.
    func signIn(
        _ request: HTTPRequest, scheme: String, configuration: Configuration, now: Int64, resumed: UInt64,
        sink: OutputSink
    ) -> SignInOutcome {
        let report = { (level: Effects.LogLevel, text: String) in sink.log(level, text) }
        if resumed != 0 {
            guard let pool, refreshes.owns(resumed) else { return finish(resumed, path: request.path, sink: sink) }
            refreshes.resumed(resumed, pool: pool, memory: &signInMemory, now: now, report: report)
        }
        var step = SignIn.before(request, scheme: scheme, configuration: configuration, now: now, memory: &signInMemory)
        if case .refresh(let token, let refresh) = step {
            let start =
                pool.map {
                    refreshes.start(refresh, token: token, pool: $0, memory: &signInMemory, now: now, report: report)
                } ?? .busy
            switch start {
            case .waiting(let id):
                sink.emit(GH_V1_JOB, "", String(id))
                return .answered(Int32(GH_V1_SUSPEND.rawValue), status: 0)
            case .settled: break
            case .busy:
                let why: String
                if let pool, !pool.isForked {
                    metrics.signInQueueFull += 1
                    why = "\(pool.capacity) provider calls are waiting already"
                } else {
                    why = pool.map { _ in JobPool.forkedWhy } ?? "this process runs no worker threads"
                }
                report(.warning, "gatehouse: the session was not refreshed, it goes on until it ends: " + why)
                signInMemory.refreshed.set((.kept, now + SignInMemory.refreshRemembered), for: token)
            }
            step = SignIn.before(request, scheme: scheme, configuration: configuration, now: now, memory: &signInMemory)
        }
        switch step {
        case .none, .refresh: return .decide([])
        case .ended(let headers): return .decide(headers)
        case .session(let claims, let headers): return .session(claims, headers)
        case .answer(let result): return answered(result, sink: sink)
        case .submit(let work):
            guard let pool, !pool.isForked else {
                return answered(
                    .failure(
                        status: 503,
                        log: "gatehouse: sign-in needs the worker threads, which this process does not run"),
                    sink: sink)
            }
            guard let id = pool.submit(work) else {
                metrics.signInQueueFull += 1
                var busy = JobResult.failure(
                    status: 503, log: "gatehouse: sign-in refused: \(pool.capacity) provider calls are waiting already")
                busy.headers.append(("Retry-After", "1"))
                return answered(busy, sink: sink)
            }
            sink.emit(GH_V1_JOB, "", String(id))
            return .answered(Int32(GH_V1_SUSPEND.rawValue), status: 0)
        }
    }

    /// The answer of a sign-in callback whose code exchange (job `id`) completed, or 504 when its
    /// request's deadline passed first (the job is then given up).
    private func finish(_ id: UInt64, path: String, sink: OutputSink) -> SignInOutcome {
        if let result = pool?.take(id) { return answered(result, sink: sink) }
        guard let pool else {
            return answered(.failure(status: 500, log: "gatehouse: no result for off-loop job \(id)"), sink: sink)
        }
        if pool.isForked {
            return answered(.failure(status: 503, log: "gatehouse: \(path): " + JobPool.forkedWhy), sink: sink)
        }
        pool.discard(id)
        return answered(
            .failure(
                status: 504,
                log: "gatehouse: \(path): the identity provider did not answer within \(pool.timeout + 2) s"),
            sink: sink)
    }

    private func answered(_ result: JobResult, sink: OutputSink) -> SignInOutcome {
        var status: Int32 = 0
        let outcome = answer(result, status: &status, sink: sink)
        return .answered(outcome, status: status)
    }

    /// Sends a result's headers and log lines through `sink` and stores its status; returns its
    /// outcome: a 2xx is the module's own answer, any other status (a redirect, an error) is final.
    func answer(_ result: JobResult, status: UnsafeMutablePointer<Int32>, sink: OutputSink) -> Int32 {
        for header in result.headers { sink.emit(GH_V1_SET_RESPONSE_HEADER, header.name, header.value) }
        for line in result.log { sink.log(line.error ? GH_V1_LOG_ERROR : GH_V1_LOG_NOTICE, line.text) }
        status.pointee = Int32(result.status)
        return Int32((200..<300).contains(result.status) ? GH_V1_ANSWER.rawValue : GH_V1_REFUSE.rawValue)
    }
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_pool_start(
    _ engine: OpaquePointer, _ settings: UnsafePointer<OpaquePointer?>, _ wakeDescriptor: Int32,
    _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?
) -> Int32 {
    let owner = runtime(engine)
    let sink = OutputSink(function: output, context: outputContext)
    let configuration = Configuration(settings)
    var deadline: Int64 = 0
    if owner.signsIn {
        let signIn = configuration.signIn
        if owner.pool == nil {
            owner.pool = JobPool(
                workers: signIn.workers, capacity: JobPool.queueBound, timeout: signIn.timeout,
                wakeDescriptor: wakeDescriptor)
        }
        guard owner.pool != nil else {
            sink.log(GH_V1_LOG_ERROR, "gatehouse: cannot start the sign-in threads")
            return -1
        }
        deadline = signIn.timeout + 2
    }
    let threads = configuration.verifyThreads ?? SignatureJobs.defaultThreads
    if threads > 0, !owner.keyReloads.sources.isEmpty {
        // (its threads start with the first token that needs them: SignatureJobs.verification)
        if owner.signatures == nil,
            let pool = JobPool(
                workers: threads, capacity: configuration.verifyQueue, timeout: SignatureJobs.deadline,
                wakeDescriptor: wakeDescriptor, firstID: SignatureJobs.idBit | 1, niceness: SignatureJobs.niceness,
                startLater: true)
        {
            owner.signatures = SignatureJobs(pool: pool)
        }
        deadline = max(deadline, SignatureJobs.deadline)
    }
    return Int32(deadline)
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_pool_drain(_ engine: OpaquePointer, _ ids: UnsafeMutablePointer<UInt64>, _ max: Int) -> Int {
    let owner = runtime(engine)
    var done = owner.signatures?.pool.drain(limit: max) ?? []
    for id in done { owner.signatures?.settle(id) }
    if done.count < max, let pool = owner.pool { done += pool.drain(limit: max - done.count) }
    for (index, id) in done.enumerated() { ids[index] = id }
    return done.count
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_job_discard(_ engine: OpaquePointer, _ id: UInt64) {
    let owner = runtime(engine)
    if SignatureJobs.owns(id) {
        owner.signatures?.release(id)
    } else if let pool = owner.pool {
        if owner.refreshes.owns(id) { owner.refreshes.release(id, pool: pool) } else { pool.discard(id) }
    }
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_pool_stop(_ engine: OpaquePointer) {
    let owner = runtime(engine)
    owner.pool?.stop()
    owner.pool = nil
    owner.signatures?.pool.stop()
    owner.signatures = nil
}
