internal import CGatehouse

// The off-loop functions of gatehouse.h, and what sign-in does around a decision.

extension Runtime {
    enum SignInOutcome {
        /// Answered, refused or suspended (an enum gh_v1_outcome, and the status) without the rules.
        case answered(Int32, status: Int32)
        /// Decide with the session's claims; these headers go out if the request is let through.
        case session(JSONObject, [(name: String, value: String)])
        case decide
    }

    func signIn(
        _ request: HTTPRequest, scheme: String, configuration: Configuration, now: Int64, sink: OutputSink
    ) -> SignInOutcome {
        switch SignIn.before(request, scheme: scheme, configuration: configuration, now: now, memory: &signInMemory)
        {
        case .none: return .decide
        case .session(let claims, let headers): return .session(claims, headers)
        case .answer(let result): return answered(result, sink: sink)
        case .submit(let work):
            guard let pool else {
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
    guard owner.signsIn else { return 0 }
    let signIn = Configuration(settings).signIn
    if owner.pool == nil {
        owner.pool = JobPool(
            workers: signIn.workers, capacity: JobPool.queueBound, timeout: signIn.timeout,
            wakeDescriptor: wakeDescriptor)
    }
    guard owner.pool != nil else {
        OutputSink(function: output, context: outputContext).log(
            GH_V1_LOG_ERROR, "gatehouse: cannot start the sign-in threads")
        return -1
    }
    return Int32(signIn.timeout + 2)
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_pool_drain(_ engine: OpaquePointer, _ ids: UnsafeMutablePointer<UInt64>, _ max: Int) -> Int {
    guard let pool = runtime(engine).pool else { return 0 }
    let done = pool.drain(limit: max)
    for (index, id) in done.enumerated() { ids[index] = id }
    return done.count
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_job_finish(
    _ engine: OpaquePointer, _ id: UInt64, _ status: UnsafeMutablePointer<Int32>, _ output: gh_v1_output_fn,
    _ outputContext: UnsafeMutableRawPointer?
) -> Int32 {
    let owner = runtime(engine)
    let sink = OutputSink(function: output, context: outputContext)
    guard let result = owner.pool?.take(id) else {
        sink.log(GH_V1_LOG_ERROR, "gatehouse: no result for off-loop job \(id)")
        status.pointee = 500
        return Int32(GH_V1_REFUSE.rawValue)
    }
    return owner.answer(result, status: status, sink: sink)
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_job_discard(_ engine: OpaquePointer, _ id: UInt64) {
    runtime(engine).pool?.discard(id)
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_pool_stop(_ engine: OpaquePointer) {
    let owner = runtime(engine)
    owner.pool?.stop()
    owner.pool = nil
}
