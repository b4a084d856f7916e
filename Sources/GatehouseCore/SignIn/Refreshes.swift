/// The session refreshes in flight in one lighttpd process, on the off-loop pool: one job per
/// refresh token however many requests of the same browser wait for it (a provider that rotates
/// refresh tokens would refuse the second use of one). When the job settles, its outcome goes
/// to `SignInMemory.refreshed`, where each waiting request finds it as it resumes.
/// Used from the event loop only; a worker thread writes only its job's `Answer`.
final class Refreshes {
    /// Written by the worker before its job completes; read on the loop after the pool handed the
    /// completion over (the pool's lock orders the two).
    private final class Answer: @unchecked Sendable {
        var result: (SessionRefresh.Outcome, SessionRefresh.Log)?
    }

    private struct Flight {
        let token: String
        let answer: Answer
        /// Requests suspended on the job: resumed or gone ones count themselves off.
        var waiters: Int
    }

    private var flights: [UInt64: Flight] = [:]
    /// The unsettled job of each refresh token.
    private var flying: [String: UInt64] = [:]

    /// Whether job `id` is a refresh (else a sign-in callback's).
    func owns(_ id: UInt64) -> Bool { flights[id] != nil }

    enum Start {
        /// The request waits for job `id`.
        case waiting(UInt64)
        /// The refresh settled already: its outcome is in `memory.refreshed`.
        case settled
        /// The pool's queue is full.
        case busy
    }

    /// Starts the refresh of `token`, or joins the one in flight.
    func start(
        _ refresh: SessionRefresh, token: String, pool: JobPool, memory: inout SignInMemory, now: Int64,
        report: (Effects.LogLevel, String) -> Void
    ) -> Start {
        guard !pool.isForked else { return .busy }
        if let id = flying[token] {
            if settle(id, pool: pool, memory: &memory, now: now, report: report) { return .settled }
            flights[id]?.waiters += 1
            return .waiting(id)
        }
        let answer = Answer()
        let submitted = pool.submit { job in
            answer.result = refresh.run(cancelled: job.cancelFlag)
            return JobResult(status: 0)
        }
        guard let id = submitted else { return .busy }
        flights[id] = Flight(token: token, answer: answer, waiters: 1)
        flying[token] = id
        return .waiting(id)
    }

    /// A request that waited for job `id` resumes. The outcome is recorded when the job has
    /// completed; when it still runs (the request's deadline passed), the job is given up and
    /// the session kept.
    func resumed(
        _ id: UInt64, pool: JobPool, memory: inout SignInMemory, now: Int64, report: (Effects.LogLevel, String) -> Void
    ) {
        guard let flight = flights[id] else { return }
        if !settle(id, pool: pool, memory: &memory, now: now, report: report) {
            flying[flight.token] = nil
            pool.discard(id)
            report(
                .warning,
                "gatehouse: the session was not refreshed, it goes on until it ends: "
                    + (pool.isForked ? JobPool.forkedWhy : "the token endpoint did not answer in time"))
            memory.refreshed.set((.kept, now + SignInMemory.refreshRemembered), for: flight.token)
        }
        release(id, pool: pool)
    }

    /// A request waiting for job `id` is done with it (resumed, or gone): the last one to leave
    /// an unsettled job cancels it.
    func release(_ id: UInt64, pool: JobPool) {
        guard var flight = flights[id] else { return }
        flight.waiters -= 1
        guard flight.waiters <= 0 else {
            flights[id] = flight
            return
        }
        flights[id] = nil
        if flying[flight.token] == id {
            flying[flight.token] = nil
            pool.discard(id)
        }
    }

    /// Records the outcome of job `id` once it completed; true when it is recorded.
    private func settle(
        _ id: UInt64, pool: JobPool, memory: inout SignInMemory, now: Int64, report: (Effects.LogLevel, String) -> Void
    ) -> Bool {
        guard let flight = flights[id], flying[flight.token] == id else { return true }
        guard pool.take(id) != nil else { return false }
        flying[flight.token] = nil
        let (outcome, log) =
            flight.answer.result ?? (.kept, [(.warning, "gatehouse: a session refresh was cancelled")])
        for line in log { report(line.level, line.text) }
        memory.refreshed.set((outcome, now + SignInMemory.refreshRemembered), for: flight.token)
        return true
    }
}
