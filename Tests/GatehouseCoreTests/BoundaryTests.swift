import Testing

@testable import GatehouseCore

/// Checks at their exact edges: each test here fails if a comparison is off by one, a check is
/// skipped when its input is absent, or a setting turns on more than it says (scripts/mutate.sh
/// makes such changes one at a time and expects a test to notice each).
@Suite("Checks at their exact boundaries")
struct BoundaryTests {
    /// The RS256 fixture: iat = now - 10, exp = now + 600, checked with a leeway of 60.
    func failure(at offset: Int64, _ change: (inout TokenRequirements) -> Void = { _ in }) -> ReasonCode? {
        var requirements = Fixtures.requirements
        change(&requirements)
        return TokenVerifier.verify(
            Fixtures.token(named: "RS256"), keys: Fixtures.keys, requirements: requirements,
            now: Fixtures.tokens.now + offset
        ).failure?.code
    }

    @Test func aTokenExpiresAtExpPlusLeewayExactly() {
        #expect(failure(at: 659) == nil)
        #expect(failure(at: 660) == .expired)
        #expect(failure(at: 599) { $0.leeway = 0 } == nil)
        #expect(failure(at: 600) { $0.leeway = 0 } == .expired)
    }

    @Test func issuedInTheFutureAndTooOldAtTheirEdges() {
        #expect(failure(at: -70) == nil)
        #expect(failure(at: -71) == .issuedInFuture)
        #expect(failure(at: 0) { $0.leeway = 0; $0.maxTokenAge = 10 } == nil)
        #expect(failure(at: 1) { $0.leeway = 0; $0.maxTokenAge = 10 } == .tooOld)
    }

    @Test func aRequiredTypeRefusesATokenWithoutOne() {
        func check(_ type: JSON?) -> ReasonCode? {
            TokenVerifier.checkAlgorithm(.rs256, type: type, algorithms: [.rs256], tokenType: "at+jwt")?.code
        }
        #expect(check(nil) == .wrongType)
        #expect(check(.integer(1)) == .wrongType)
        #expect(check(.string("JWT")) == .wrongType)
        #expect(check(.string("application/at+jwt")) == nil)
        #expect(TokenVerifier.checkAlgorithm(.rs256, type: nil, algorithms: [.rs256], tokenType: nil) == nil)
    }

    @Test func aKeysOwnAlgIsTheOnlyOneItVerifies() throws {
        let pinned = try #require(Fixtures.keys.keys.first { $0.id == "rsa-1" })  // "alg": "RS256"
        #expect(pinned.algorithm == .rs256)
        for algorithm in [JWSAlgorithm.ps256, .rs384, .rs512, .ps512] {
            #expect(!pinned.accepts(algorithm))
            let found = Fixtures.keys.candidates(kid: "rsa-1", algorithm: algorithm)
            #expect(found.keys.isEmpty && found.kidKnown)
        }
        #expect(pinned.accepts(.rs256))
        let free = try #require(Fixtures.keys.keys.first { $0.id == "rsa-2" })  // no "alg"
        #expect(free.accepts(.ps256) && free.accepts(.rs384))
    }

    @Test func theConfiguredLeewayAndTokenTypeReachTheVerifier() throws {
        func status(_ directives: [(Directive, ConfigValue)], at offset: Int64) throws -> (Int, ReasonCode) {
            let configuration = try GateTests.configuration([(.require, GateTests.rules)] + directives)
            let token = "Bearer " + Fixtures.token(named: "RS256")
            let request = HTTPRequest(method: "GET", path: "/read/x", host: "h", remoteIP: "192.0.2.1") {
                $0 == "Authorization" ? token : nil
            }
            let decision = try #require(
                Gate.decide(request, configuration: configuration, now: Fixtures.tokens.now + offset))
            return (decision.verdict.status, decision.verdict.reason)
        }
        #expect(try status([(.leeway, .integer(5))], at: 604) == (0, .allowed))
        #expect(try status([(.leeway, .integer(5))], at: 605) == (401, .expired))
        #expect(try status([(.tokenType, .string("at+jwt"))], at: 0) == (401, .wrongType))
    }

    @Test func enforceModeRefuses() throws {
        let configuration = try GateTests.configuration([(.require, GateTests.rules), (.mode, .string("enforce"))])
        #expect(!configuration.reportOnly)
        let request = HTTPRequest(method: "GET", path: "/admin", host: "h", remoteIP: "192.0.2.1") { _ in nil }
        let decision = try #require(Gate.decide(request, configuration: configuration, now: Fixtures.tokens.now))
        #expect(decision.verdict.status == 401 && decision.diagnostics.wouldRefuse == nil)
        let reportOnly = try GateTests.configuration([(.require, GateTests.rules), (.mode, .string("report-only"))])
        #expect(reportOnly.reportOnly)
    }
}
