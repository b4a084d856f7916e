import Glibc
import Testing

@testable import GatehouseCore

@Suite("Signatures verified off the event loop")
final class SignatureJobsTests {
    let now = Fixtures.tokens.now
    /// The wake descriptor: a pipe the workers write 8 bytes to per completed job.
    var wake: [Int32] = [-1, -1]

    init() {
        _ = pipe(&wake)
    }

    deinit {
        close(wake[0])
        close(wake[1])
    }

    func jobs(threads: Int = 2, queue: Int = 64) -> SignatureJobs {
        let pool = JobPool(
            workers: threads, capacity: queue, timeout: SignatureJobs.deadline, wakeDescriptor: wake[1],
            firstID: SignatureJobs.idBit | 1)!
        return SignatureJobs(pool: pool)
    }

    func step(
        _ jobs: SignatureJobs, _ token: String, cache: TokenCache, keys: KeySet = Fixtures.keys, resumed: UInt64? = nil
    ) -> SignatureJobs.Step {
        jobs.verification(
            of: token, keys: keys, requirements: Fixtures.requirements, now: now, cache: cache, resumed: resumed)
    }

    /// Waits for the wake descriptor, then settles every completed job (what the event loop does).
    func settleCompleted(_ jobs: SignatureJobs) -> [UInt64] {
        var eight: UInt64 = 0
        _ = read(wake[0], &eight, 8)
        let done = jobs.pool.drain(limit: 64)
        for id in done { jobs.settle(id) }
        return done
    }

    @Test("every fixture token gets the answer it gets on the loop", arguments: Fixtures.tokens.cases.map(\.name))
    func sameAnswerAsOnTheLoop(name: String) {
        let jobs = jobs()
        defer { jobs.pool.stop() }
        let token = Fixtures.token(named: name)
        let onLoop = TokenCache(capacity: 10)
        let inline = TokenVerifier.verify(
            token, keys: Fixtures.keys, requirements: Fixtures.requirements, now: now, cache: onLoop)
        let cache = TokenCache(capacity: 10)
        var answer: Result<CachedToken, TokenError>
        switch step(jobs, token, cache: cache) {
        case .onLoop:  // (oversized: refused before any work)
            #expect(token.utf8.count > TokenVerifier.maximumLength)
            return
        case .waiting(let id):
            var done: [UInt64] = []
            while done.isEmpty { done = settleCompleted(jobs) }
            #expect(done == [id])
            guard case .settled(let settled) = step(jobs, token, cache: cache, resumed: id) else {
                Issue.record("the job's answer is not found when the request is decided again")
                return
            }
            answer = settled
            jobs.release(id)
        default:
            Issue.record("a fresh token neither waits nor is verified on the loop")
            return
        }
        #expect(answer.failure == inline.failure)
        #expect((try? answer.get().verified.claims["sub"]?.stringValue) == (try? inline.get()["sub"]?.stringValue))
        // A verified token is cached as on the loop (not one past its exp): the next request is answered at once.
        #expect(cache.count == onLoop.count)
        if onLoop.count == 1, case .settled(let again) = step(jobs, token, cache: cache) {
            #expect(again.failure == nil)
        } else if onLoop.count == 1 {
            Issue.record("a verified token is not answered from the cache")
        }
    }

    @Test func requestsWithTheSameTokenWaitForOneJob() {
        let jobs = jobs(queue: 1)
        defer { jobs.pool.stop() }
        let cache = TokenCache(capacity: 10)
        let token = Fixtures.token(named: "RS256")
        guard case .waiting(let first) = step(jobs, token, cache: cache),
            case .waiting(let second) = step(jobs, token, cache: cache)
        else {
            Issue.record("the token does not wait for a worker thread")
            return
        }
        #expect(first == second)  // (and the queue of 1 did not refuse the second request)
        while settleCompleted(jobs).isEmpty {}
        jobs.release(first)
        // The second request still finds the answer after the first was decided.
        guard case .settled(let answer) = step(jobs, token, cache: TokenCache(capacity: 10), resumed: second) else {
            Issue.record("the second request lost the job's answer")
            return
        }
        #expect(answer.failure == nil)
        jobs.release(second)
    }

    @Test func aJobsAnswerIsForItsTokenAndIsCheckedAgainstTheContextDecidingIt() {
        let jobs = jobs()
        defer { jobs.pool.stop() }
        let token = Fixtures.token(named: "RS256")
        guard case .waiting(let id) = step(jobs, token, cache: TokenCache(capacity: 10)) else {
            Issue.record("the token does not wait for a worker thread")
            return
        }
        while settleCompleted(jobs).isEmpty {}
        // Another token presented with this job's id is not answered by it (it waits for a job of its own).
        let other = Fixtures.token(named: "expired")
        guard case .waiting(let otherID) = step(jobs, other, cache: TokenCache(capacity: 10), resumed: id) else {
            Issue.record("another token took the job's answer")
            return
        }
        jobs.release(otherID)
        // A context whose requirements the token does not meet refuses it, whatever the job's context.
        var stricter = Fixtures.requirements
        stricter.audiences = ["another-api"]
        let resumed = jobs.verification(
            of: token, keys: Fixtures.keys, requirements: stricter, now: now, cache: TokenCache(capacity: 10),
            resumed: id)
        guard case .settled(let answer) = resumed else {
            Issue.record("the job's answer is not found when the request is decided again")
            return
        }
        #expect(answer.failure?.code == .wrongAudience)
        jobs.release(id)
    }

    @Test func aFullQueueIsBusyUntilItsJobsAreTaken() {
        let jobs = jobs(threads: 1, queue: 1)
        defer { jobs.pool.stop() }
        let cache = TokenCache(capacity: 10)
        guard case .waiting(let id) = step(jobs, Fixtures.token(named: "RS256"), cache: cache) else {
            Issue.record("the token does not wait for a worker thread")
            return
        }
        // Completed but not yet drained, the job still counts against the bound.
        guard case .busy = step(jobs, Fixtures.token(named: "ES256"), cache: cache) else {
            Issue.record("a full queue took another token")
            return
        }
        while settleCompleted(jobs).isEmpty {}
        jobs.release(id)
        guard case .waiting = step(jobs, Fixtures.token(named: "ES256"), cache: cache) else {
            Issue.record("the queue stays full after its job was taken")
            return
        }
    }

    @Test func aJobNobodyWaitsForAnyMoreLeavesNothingBehind() {
        let jobs = jobs(threads: 1)
        defer { jobs.pool.stop() }
        let cache = TokenCache(capacity: 10)
        guard case .waiting(let id) = step(jobs, Fixtures.token(named: "RS256"), cache: cache) else {
            Issue.record("the token does not wait for a worker thread")
            return
        }
        jobs.release(id)  // (its request is gone: reset, or timed out)
        usleep(20_000)
        let done = jobs.pool.drain(limit: 64)
        for id in done { jobs.settle(id) }
        #expect(cache.count == 0)
        // The same token later is a job of its own, not the forgotten one.
        guard case .waiting(let again) = step(jobs, Fixtures.token(named: "RS256"), cache: cache) else {
            Issue.record("the token does not wait for a worker thread")
            return
        }
        #expect(again != id)
        jobs.release(again)
    }

    @Test func whatIsCheaperOnTheLoopStaysThere() {
        let jobs = jobs()
        defer { jobs.pool.stop() }
        let token = Fixtures.token(named: "RS256")
        guard case .onLoop = step(jobs, token, cache: TokenCache(capacity: 0)) else {
            Issue.record("without a cache the resumed request would find nothing")
            return
        }
        let secrets = KeySet(keys: Fixtures.keys.keys.filter { $0.kind == .hmac })
        guard case .onLoop = step(jobs, Fixtures.token(named: "HS256"), cache: TokenCache(capacity: 10), keys: secrets)
        else {
            Issue.record("an HMAC is handed to a worker thread")
            return
        }
    }

    @Test func theThreadsStartWithTheFirstTokenThatNeedsOne() throws {
        let pool = try #require(
            JobPool(
                workers: 2, capacity: 4, timeout: SignatureJobs.deadline, wakeDescriptor: wake[1],
                firstID: SignatureJobs.idBit | 1, startLater: true))
        let jobs = SignatureJobs(pool: pool)
        defer { pool.stop() }
        let secrets = KeySet(keys: Fixtures.keys.keys.filter { $0.kind == .hmac })
        guard case .onLoop = step(jobs, Fixtures.token(named: "HS256"), cache: TokenCache(capacity: 10), keys: secrets)
        else {
            Issue.record("an HMAC is handed to a worker thread")
            return
        }
        #expect(!pool.started)  // (keys of HMAC secrets only: no thread)
        let cache = TokenCache(capacity: 10)
        let token = Fixtures.token(named: "RS256")
        guard case .waiting(let id) = step(jobs, token, cache: cache) else {
            Issue.record("the token does not wait for a worker thread")
            return
        }
        #expect(pool.started)
        while settleCompleted(jobs).isEmpty {}
        guard case .settled(let answer) = step(jobs, token, cache: cache, resumed: id) else {
            Issue.record("the job's answer is not found when the request is decided again")
            return
        }
        #expect(answer.failure == nil)
        jobs.release(id)
    }
}

@Suite("A request whose deadline passes before its signature is verified")
struct SignatureDeadlineTests {
    @Test(arguments: [false, true])
    func isDecided504ThroughModeAuditAndCounters(reportOnly: Bool) throws {
        var wake: [Int32] = [-1, -1]
        _ = pipe(&wake)
        defer {
            close(wake[0])
            close(wake[1])
        }
        let pool = try #require(
            JobPool(
                workers: 1, capacity: 4, timeout: SignatureJobs.deadline, wakeDescriptor: wake[1],
                firstID: SignatureJobs.idBit | 1))
        let jobs = SignatureJobs(pool: pool)
        defer { pool.stop() }
        var directives: [(Directive, ConfigValue)] = [
            (.require, GateTests.rules), (.auditLog, .string("/tmp/gatehouse-deadline-audit.log")),
        ]
        if reportOnly { directives.append((.mode, .string("report-only"))) }
        let configuration = try GateTests.configuration(directives)
        let token = Fixtures.token(named: "RS256")
        let request = HTTPRequest(method: "GET", path: "/read/x", host: "h", remoteIP: "192.0.2.1") {
            $0 == "Authorization" ? "Bearer " + token : nil
        }
        let cache = TokenCache(capacity: 10)
        func decide(resumed: UInt64?) throws -> Decision {
            try #require(
                Gate.decide(
                    request, configuration: configuration, now: Fixtures.tokens.now, cache: cache,
                    offLoop: OffLoopVerification(jobs: jobs, resumed: resumed)))
        }
        let id = try #require(try decide(resumed: nil).awaiting)
        // The deadline passes before the loop settles the job (whatever its thread does meanwhile).
        let decision = try decide(resumed: id)
        jobs.release(id)
        #expect(decision.awaiting == nil)
        #expect(decision.verdict.reason == .verificationTimeout)
        #expect(decision.verdict.status == (reportOnly ? 0 : 504))
        #expect(decision.diagnostics.wouldRefuse == (reportOnly ? 504 : nil))
        let effects = Effects(
            of: decision, request: request, configuration: configuration, time: (0, 0), statusPage: { "" })
        #expect(effects.status == (reportOnly ? 0 : 504))
        let record = try #require(effects.audit?.record)
        #expect(record.contains("\"reason\":\"verification_timeout\""))
        let logs = effects.logs.map(\.message)
        #expect(
            logs.contains(
                "gatehouse: GET /read/x: the token's signature was not verified before the request's deadline"))
        #expect(logs.contains { $0.contains("would be refused with 504 (verification_timeout") } == reportOnly)
        let metrics = Metrics()
        metrics.count(decision)
        let outcome = reportOnly ? "report_only_deny" : "deny"
        #expect(
            metrics.text(cache: nil, keys: [], now: 0).contains(
                "gatehouse_decisions_total{outcome=\"\(outcome)\",reason=\"verification_timeout\"} 1"))
    }
}
