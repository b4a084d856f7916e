import Testing

@testable import GatehouseCore

@Suite struct RateLimiterTests {
    let twoPerMinute = try! RateLimiter.Limit(methods: "*", rate: "2/minute")

    @Test func floodingWithNewCallersNeverResetsALimitedCaller() {
        let limiter = RateLimiter(capacity: 100)
        let metrics = Metrics()
        #expect(limiter.take(twoPerMinute, caller: "victim", now: 0) == nil)
        #expect(limiter.take(twoPerMinute, caller: "victim", now: 0) == nil)
        #expect(limiter.take(twoPerMinute, caller: "victim", now: 0) == 30)
        for caller in 0..<10_000 {
            #expect(limiter.take(twoPerMinute, caller: "flood-\(caller)", now: 1, metrics: metrics) == nil)
        }
        #expect(limiter.take(twoPerMinute, caller: "victim", now: 1) == 29)
        #expect(metrics.rateLimitEvictions == 10_000 - 99)
        #expect(metrics.rateLimitOverflows == 0)
    }

    @Test func aBucketRefilledToFullGoesFirstThenTheFullest() {
        let limiter = RateLimiter(capacity: 3)
        #expect(limiter.take(twoPerMinute, caller: "a", now: 20) == nil)  // 1.33 of 2 at 30
        #expect(limiter.take(twoPerMinute, caller: "b", now: 0) == nil)  // full again at 30
        #expect(limiter.take(twoPerMinute, caller: "c", now: 29) == nil)
        #expect(limiter.take(twoPerMinute, caller: "c", now: 29) == nil)  // refusing until 59
        #expect(limiter.take(twoPerMinute, caller: "new-1", now: 30) == nil)  // takes b's place, not a's
        #expect(limiter.take(twoPerMinute, caller: "a", now: 30) == nil)
        #expect(limiter.take(twoPerMinute, caller: "a", now: 30) != nil)  // a's bucket was kept
        #expect(limiter.take(twoPerMinute, caller: "c", now: 30) != nil)
        // at 31: a (0.37) and c (0.07) refuse; new-1 (1.03 of 2) is the only one that may go
        #expect(limiter.take(twoPerMinute, caller: "new-2", now: 31) == nil)
        #expect(limiter.take(twoPerMinute, caller: "a", now: 31) != nil)
        #expect(limiter.take(twoPerMinute, caller: "c", now: 31) != nil)
    }

    @Test func whenEveryBucketIsRefusingNewcomersShareOneBucket() {
        let limiter = RateLimiter(capacity: 2)
        let metrics = Metrics()
        for caller in ["a", "b"] {
            for _ in 0..<2 { #expect(limiter.take(twoPerMinute, caller: caller, now: 0) == nil) }
        }
        // at 10, a and b hold a third of a request each: still refusing
        #expect(limiter.take(twoPerMinute, caller: "x", now: 10, metrics: metrics) == nil)
        #expect(limiter.take(twoPerMinute, caller: "y", now: 10, metrics: metrics) == nil)
        #expect(limiter.take(twoPerMinute, caller: "z", now: 10, metrics: metrics) == 30)
        #expect(limiter.take(twoPerMinute, caller: "a", now: 10) != nil)
        #expect(limiter.take(twoPerMinute, caller: "b", now: 10) != nil)
        #expect(metrics.rateLimitOverflows == 3 && metrics.rateLimitEvictions == 0)
        #expect(metrics.text(cache: nil, keys: [], now: 0).contains("\ngatehouse_rate_limit_overflow_total 3\n"))
        #expect(metrics.text(cache: nil, keys: [], now: 0).contains("\ngatehouse_rate_limit_evictions_total 0\n"))
    }

    @Test func twoIssuersSubjectsOfTheSameNameAreTwoCallers() throws {
        let configuration = try GateTests.configuration([
            (.require, .list([("/", .string("authenticated"))])),
            (.rateLimit, .list([("*", .string("1/minute"))])),
        ])
        let limiter = RateLimiter()
        func decide(issuer: String, subject: String) throws -> Int {
            let request = HTTPRequest(method: "GET", path: "/x", host: "h", remoteIP: "192.0.2.1") { _ in nil }
            let claims = JSONObject(members: [("iss", .string(issuer)), ("sub", .string(subject))])
            return try #require(
                Gate.decide(
                    request, configuration: configuration, now: 0, limiter: limiter, presented: VerifiedClaims(claims))
            ).verdict.status
        }
        #expect(try decide(issuer: "https://a.example/", subject: "alice") == 0)
        #expect(try decide(issuer: "https://a.example/", subject: "alice") == 429)
        #expect(try decide(issuer: "https://b.example/", subject: "alice") == 0)
        // neither the issuer's nor the subject's bytes can shift into the other's
        #expect(try decide(issuer: "https://a.example/a", subject: "lice") == 0)
    }
}
