import Foundation
import Testing

@testable import GatehouseCore

@Suite("Token verification against tokens minted by PyJWT and cryptography")
struct TokenVerifierTests {
    @Test("each fixture token gets its expected outcome", arguments: Fixtures.tokens.cases)
    func fixture(_ fixture: Fixtures.TokenCase) {
        let result = TokenVerifier.verify(
            fixture.token, keys: Fixtures.keys, requirements: Fixtures.requirements,
            now: Fixtures.tokens.now)
        switch result {
        case .success: #expect(fixture.expect == "valid", "accepted, expected \(fixture.expect)")
        case .failure(let error): #expect(error.code.rawValue == fixture.expect, "\(error.message)")
        }
    }

    /// Worker threads verify at once with the same keys (each takes a prepared OpenSSL context of
    /// its own): every valid token verifies and every forged one fails, whatever runs beside it.
    @Test func verificationsOnManyThreadsAtOnceGetTheirOwnOutcomes() async {
        let valid = ["RS256", "PS256", "ES256", "EdDSA", "HS256"].map { Fixtures.token(named: $0) }
        let forged = Fixtures.token(named: "signed by another key")
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for task in 0..<16 {
                group.addTask {
                    var right = true
                    for round in 0..<40 {
                        let token = (task + round) % 4 == 0 ? forged : valid[(task + round) % valid.count]
                        let result = TokenVerifier.verify(
                            token, keys: Fixtures.keys, requirements: Fixtures.requirements, now: Fixtures.tokens.now)
                        if (result.failure == nil) != (token != forged) { right = false }
                    }
                    return right
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.count == 16 && outcomes.allSatisfy { $0 })
    }

    @Test func theFixturesCoverEveryAttackFamily() {
        let expectations = Set(Fixtures.tokens.cases.map(\.expect))
        for code in [
            "valid", "malformed", "token_too_large", "unsupported_algorithm", "unknown_key",
            "key_algorithm_mismatch", "bad_signature", "critical_header", "expired", "not_yet_valid",
            "issued_in_future", "wrong_issuer", "wrong_audience", "missing_claim",
        ] {
            #expect(expectations.contains(code), "no fixture expects \(code)")
        }
    }

    /// The fixture token `name` verified with the fixtures' keys and requirements changed by `change`.
    private func failure(
        _ name: String, now: Int64 = Fixtures.tokens.now, _ change: (inout TokenRequirements) -> Void
    ) -> ReasonCode? {
        var requirements = Fixtures.requirements
        change(&requirements)
        return TokenVerifier.verify(
            Fixtures.token(named: name), keys: Fixtures.keys, requirements: requirements, now: now
        ).failure?.code
    }

    @Test func algorithmsOutsideTheAllowedListAreRefused() {
        #expect(failure("RS256") { $0.algorithms = [.es256] } == .algorithmNotAllowed)
    }

    @Test func hmacIsRefusedUnlessAllowed() {
        #expect(failure("HS256") { $0.algorithms = JWSAlgorithm.defaultAllowed } == .algorithmNotAllowed)
    }

    @Test func requiredTypeIsComparedAsAMediaType() {
        #expect(TokenVerifier.sameMediaType("application/AT+JWT", "at+jwt"))
        #expect(TokenVerifier.sameMediaType("at+jwt", "application/at+jwt"))
        #expect(!TokenVerifier.sameMediaType("JWT", "at+jwt"))
        #expect(failure("RS256") { $0.tokenType = "at+jwt" } == .wrongType)
    }

    @Test func maxTokenAgeRefusesOldTokens() {
        // iat is now - 10 in the fixtures
        #expect(failure("RS256", now: Fixtures.tokens.now + 100) { $0.maxTokenAge = 5 } == .tooOld)
    }

    @Test func aPEMKeyVerifiesTokensWhateverTheirKid() throws {
        let keys = try KeySet.load(path: Fixtures.path("rsa-public.pem"))
        #expect(keys.keys.count == 1 && keys.keys[0].kind == .rsa(bits: 2048))
        let token = try String(contentsOfFile: Fixtures.path("rsa-public-token.txt"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let result = TokenVerifier.verify(
            token, keys: keys, requirements: Fixtures.requirements,
            now: Fixtures.tokens.now)
        #expect(result.failure == nil)
    }

    @Test("keys that must be refused at load", arguments: Fixtures.badKeySets)
    func badKeys(_ set: Fixtures.BadKeySet) {
        do {
            let keys = try KeySet.parse(Array(set.content.utf8), source: set.name)
            Issue.record("loaded \(keys.keys.count) keys; expected an error containing \(set.expect)")
        } catch {
            #expect(error.description.contains(set.expect), "\(error.description)")
        }
    }

    @Test func theTrustedKeySetLoads() {
        #expect(Fixtures.keys.keys.count == 7)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
