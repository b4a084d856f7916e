internal import CCurl
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Work that must not run on lighttpd's event loop: calls to the identity provider (a sign-in's
/// code exchange today; keys fetched live and token introspection share this pool), and, in a pool
/// of their own, signatures (SignatureJobs). One pool of each per lighttpd process that serves
/// requests, made after lighttpd forks its workers (the signatures' threads start with the first
/// token that needs one) and stopped before the configuration is freed (docs/browser-sign-in.md,
/// "How it works").
///
/// Threads: the event loop submits jobs, drains completions and applies results; worker threads
/// only run `Job.work`, which must copy everything it reads at submit time and call nothing of
/// lighttpd's. Each accepted job completes exactly once (done, failed, timed out or cancelled):
/// its id is put on the completion list and, if the list was empty, the wake descriptor (an eventfd
/// lighttpd polls) is written, so the loop learns of it without waiting.
///
/// Forked: lighttpd's `server.graceful-restart-bg` forks the process that serves the connections in
/// progress, and a fork keeps only the thread that forked. In that child the pool has no workers,
/// and a lock a worker held at the fork would never be released: every method then leaves the
/// pool's state alone (nothing is submitted, taken or joined), and the requests that waited are
/// answered without their jobs.
final class JobPool: @unchecked Sendable {
    /// The most jobs queued or running at once; past it, a submission is refused (503).
    let capacity: Int
    /// Seconds a job may take before the request waiting for it is answered 504.
    let timeout: Int64
    private let wakeDescriptor: Int32
    private let workers: Int
    private let niceness: Int32
    private let state = Mutex(State())
    /// Counts the jobs queued: a worker waits on it.
    private let queued = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    private var threads: [pthread_t] = []
    /// The process that started the workers.
    private let owner = getpid()

    private struct State: ~Copyable {
        var nextID: UInt64 = 1
        var queue: [Job] = []
        var inFlight: [UInt64: Job] = [:]
        var completed: [UInt64] = []
        var stopping = false
    }

    /// `firstID`: the id of the first job (each pool's ids tell its jobs from another's). `niceness`:
    /// added to each worker thread's nice value (Linux schedules threads one by one), so that the
    /// event loop goes first when the CPUs are busy. `startLater`: no thread until `start()` (a pool
    /// that may never get a job costs none).
    init?(
        workers: Int, capacity: Int, timeout: Int64, wakeDescriptor: Int32, firstID: UInt64 = 1, niceness: Int32 = 0,
        startLater: Bool = false
    ) {
        self.workers = max(1, workers)
        self.capacity = capacity
        self.niceness = niceness
        self.timeout = timeout
        self.wakeDescriptor = wakeDescriptor
        sem_init(queued, 0, 0)
        state.withLock { $0.nextID = firstID }
        JobPool.curlOnce
        guard startLater || start() else {
            stop()
            return nil
        }
    }

    /// Whether worker threads run.
    var started: Bool { !threads.isEmpty }

    /// Starts the worker threads, with every signal blocked in them (lighttpd's handlers run on the
    /// main thread); false when not all of them could be created (those that were serve the pool).
    @discardableResult
    func start() -> Bool {
        var all = sigset_t()
        var old = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        let unmanaged = Unmanaged.passUnretained(self).toOpaque()
        while threads.count < workers {
            var thread = pthread_t()
            guard
                pthread_create(
                    &thread, nil,
                    { context in
                        Unmanaged<JobPool>.fromOpaque(context!).takeUnretainedValue().run()
                        return nil
                    }, unmanaged) == 0
            else { return false }
            threads.append(thread)
        }
        return true
    }

    deinit {
        sem_destroy(queued)
        queued.deallocate()
    }

    /// Whether this is a child forked from the process that runs the workers.
    var isForked: Bool { getpid() != owner }
    /// What a request that waited in a forked child is told.
    static let forkedWhy =
        "this process was forked by a graceful restart (server.graceful-restart-bg) and has no worker "
        + "threads: the provider call it waited for is given up"

    /// libcurl's global set-up, once per process (never undone: a graceful restart reuses it).
    private static let curlOnce: Void = gh_curl_global_init()

    /// Queues `work`; nil when `capacity` jobs are already queued or running.
    func submit(_ work: @escaping @Sendable (Job) -> JobResult) -> UInt64? {
        guard !isForked else { return nil }
        let id: UInt64? = state.withLock { state in
            guard !state.stopping, state.inFlight.count < capacity else { return nil }
            let job = Job(id: state.nextID, work: work)
            state.nextID += 1
            state.queue.append(job)
            state.inFlight[job.id] = job
            return job.id
        }
        if id != nil { sem_post(queued) }
        return id
    }

    /// The queue bound: jobs queued or running per process (docs/browser-sign-in.md).
    static let queueBound = 64

    /// The ids of up to `limit` jobs completed since the last call (main thread).
    func drain(limit: Int) -> [UInt64] {
        guard !isForked else { return [] }
        return state.withLock { state in
            let taken = Array(state.completed.prefix(limit))
            state.completed.removeFirst(taken.count)
            return taken
        }
    }

    /// Takes a completed job's result out of the pool; nil when `id` is unknown or not complete.
    func take(_ id: UInt64) -> JobResult? {
        guard !isForked else { return nil }
        return state.withLock { state in
            guard let job = state.inFlight[id], let result = job.result else { return nil }
            state.inFlight[id] = nil
            return result
        }
    }

    /// Asks a job to give up (its transfer is aborted); it still completes once.
    func cancel(_ id: UInt64) {
        guard !isForked else { return }
        if let job = state.withLock({ $0.inFlight[id] }) { job.cancel() }
    }

    /// Forgets a job whose request is gone (reset, or answered 504): it is cancelled, and its
    /// result is dropped whenever it completes; a completion already listed names an id the
    /// caller no longer knows.
    func discard(_ id: UInt64) {
        guard !isForked else { return }
        let job = state.withLock { state -> Job? in
            guard let job = state.inFlight[id] else { return nil }
            if job.result != nil { state.inFlight[id] = nil } else { job.discarded = true }
            return job
        }
        job?.cancel()
    }

    /// Stops the workers: queued jobs complete as cancelled, running ones are aborted; returns
    /// once every thread has ended (at once in a forked child, which has none to join).
    func stop() {
        guard !isForked else { return }
        let pending = state.withLock { state -> [Job] in
            state.stopping = true
            defer { state.queue.removeAll() }
            return state.queue
        }
        for job in pending {
            job.cancel()
            finish(job, JobResult.failure(status: 503, log: "gatehouse: the server is stopping"))
        }
        for (_, job) in state.withLock({ $0.inFlight }) { job.cancel() }
        for _ in threads { sem_post(queued) }
        for thread in threads { pthread_join(thread, nil) }
        threads.removeAll()
    }

    private func run() {
        // (who 0 is the calling thread: on Linux a nice value belongs to a thread, not the process)
        if niceness != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) }
        while true {
            while sem_wait(queued) != 0 {}
            let next = state.withLock { state -> Job? in
                state.queue.isEmpty ? nil : state.queue.removeFirst()
            }
            guard let job = next else {
                if state.withLock({ $0.stopping }) { return }
                continue
            }
            finish(
                job,
                job.isCancelled
                    ? .failure(status: 504, log: "gatehouse: a provider call was cancelled")
                    : job.work(job))
        }
    }

    /// Records a job's result and wakes the loop, once per batch: only a completion that finds the
    /// list empty writes the wake descriptor (the loop drains until the list is empty, under the
    /// same lock, so a completion listed behind another is drained with it).
    private func finish(_ job: Job, _ result: JobResult) {
        let wake = state.withLock { state -> Bool in
            job.result = result
            if job.discarded {
                state.inFlight[job.id] = nil
                return false
            }
            state.completed.append(job.id)
            return state.completed.count == 1
        }
        guard wake else { return }
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, 8)
    }
}

/// One piece of off-loop work and, once done, its result. Its fields other than the cancel flag
/// change under the pool's lock only.
final class Job: @unchecked Sendable {
    let id: UInt64
    let work: @Sendable (Job) -> JobResult
    var result: JobResult?
    var discarded = false
    /// Read by libcurl's progress callback on the worker thread (gh_flag_get).
    let cancelFlag = UnsafeMutablePointer<Int32>.allocate(capacity: 1)

    init(id: UInt64, work: @escaping @Sendable (Job) -> JobResult) {
        self.id = id
        self.work = work
        cancelFlag.initialize(to: 0)
    }

    deinit { cancelFlag.deallocate() }

    func cancel() { gh_flag_set(cancelFlag) }
    var isCancelled: Bool { gh_flag_get(cancelFlag) != 0 }
}

/// What a job decided: the status to answer the waiting request with (or 0 to let it through),
/// the response headers, and lines for lighttpd's error log (logged on the event loop).
struct JobResult: Sendable {
    var status: Int
    var headers: [(name: String, value: String)] = []
    var log: [(error: Bool, text: String)] = []

    static func failure(status: Int, log: String) -> JobResult {
        JobResult(status: status, log: [(true, log)])
    }
}
