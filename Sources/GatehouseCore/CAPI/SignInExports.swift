internal import CGatehouse

// The off-loop functions of gatehouse.h, and what sign-in does around a decision.

extension Engine {
    enum SignInOutcome {
        /// Answered (or suspended: GH_V1_SUSPENDED) without the rules.
        case answered(Int32)
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
        case .answer(let result): return .answered(answer(result, sink: sink))
        case .submit(let work):
            guard let pool else {
                return .answered(
                    answer(
                        .failure(
                            status: 503,
                            log: "gatehouse: sign-in needs the worker threads, "
                                + "which this process does not run"), sink: sink))
            }
            guard let id = pool.submit(work) else {
                metrics.signInQueueFull += 1
                var busy = JobResult.failure(
                    status: 503, log: "gatehouse: sign-in refused: \(pool.capacity) provider calls are waiting already")
                busy.headers.append(("Retry-After", "1"))
                return .answered(answer(busy, sink: sink))
            }
            sink.emit(GH_V1_JOB, "", String(id))
            return .answered(GH_V1_SUSPENDED)
        }
    }

    /// Sends a result's headers and log lines through `sink`; returns its status.
    func answer(_ result: JobResult, sink: OutputSink) -> Int32 {
        for header in result.headers { sink.emit(GH_V1_SET_RESPONSE_HEADER, header.name, header.value) }
        for line in result.log { sink.log(line.error ? GH_V1_LOG_ERROR : GH_V1_LOG_NOTICE, line.text) }
        return Int32(result.status)
    }
}

private func engine(_ pointer: OpaquePointer) -> Engine {
    Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

@c @implementation
func gh_v1_pool_start(
    _ engine: OpaquePointer, _ settings: UnsafePointer<OpaquePointer?>, _ wakeDescriptor: Int32,
    _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?
) -> Int32 {
    let owner = GatehouseCore.engine(engine)
    guard owner.signsIn else { return 0 }
    let signIn = configuration(settings).signIn
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

@c @implementation
func gh_v1_pool_drain(_ engine: OpaquePointer, _ ids: UnsafeMutablePointer<UInt64>, _ max: Int) -> Int {
    guard let pool = GatehouseCore.engine(engine).pool else { return 0 }
    let done = pool.drain(limit: max)
    for (index, id) in done.enumerated() { ids[index] = id }
    return done.count
}

@c @implementation
func gh_v1_job_finish(
    _ engine: OpaquePointer, _ id: UInt64, _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?
) -> Int32 {
    let owner = GatehouseCore.engine(engine)
    let sink = OutputSink(function: output, context: outputContext)
    guard let result = owner.pool?.take(id) else {
        sink.log(GH_V1_LOG_ERROR, "gatehouse: no result for off-loop job \(id)")
        return 500
    }
    return owner.answer(result, sink: sink)
}

@c @implementation
func gh_v1_job_discard(_ engine: OpaquePointer, _ id: UInt64) {
    GatehouseCore.engine(engine).pool?.discard(id)
}

@c @implementation
func gh_v1_pool_stop(_ engine: OpaquePointer) {
    let owner = GatehouseCore.engine(engine)
    owner.pool?.stop()
    owner.pool = nil
}
