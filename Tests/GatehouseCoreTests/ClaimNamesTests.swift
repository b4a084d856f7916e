import Testing

@testable import GatehouseCore

@Suite("The claims a cached token keeps")
struct ClaimNamesTests {
    func names(_ directives: [(Directive, ConfigValue)]) throws -> ClaimNames {
        try GateTests.configuration(directives).tokenRequirements.claims
    }

    @Test func aContextReadsWhatItsRulesIdentitySettingsAuditAndLimitsRead() throws {
        let plain = try names([(.require, .list([("/", .string("role:viewer"))]))])
        for name in ["sub", "roles", "groups", "scope", "scp"] { #expect(plain.contains(name), "\(name)") }
        for name in ["iss", "jti", "aud", "exp", "email", "teams", "org"] { #expect(!plain.contains(name), "\(name)") }
        let full = try names([
            (
                .require,
                .list([
                    (
                        "/t/{team}/",
                        .string(
                            "path.team in claims.teams and (claims.org.name == 'x' or claims.'https://ex.com/tier' exists)"
                        )
                    ),
                    ("/u/", .string("not (claims.email matches '@x$') and claims.flows contains 'etl'")),
                ])
            ),
            (.defaultRule, .string("claims.level >= 3")),
            (.rolesClaim, .string("realm_access.roles")),
            (.headers, .list([("X-Email-Verified", .string("email_verified"))])),
            (.env, .list([("AUTH_TENANT", .string("tenant"))])),
            (.claimsSchema, .list([("ids", .string("array of numbers"))])),
            (.auditLog, .string("|cat")),
        ])
        for name in [
            "sub", "teams", "org", "https://ex.com/tier", "email", "level", "realm_access", "groups", "scope", "scp",
            "email_verified", "tenant", "ids", "iss", "jti", "flows",
        ] {
            #expect(full.contains(name), "\(name)")
        }
        for name in ["roles", "aud", "exp", "nbf"] { #expect(!full.contains(name), "\(name)") }
        let limited = try names([
            (.require, .list([("/", .string("authenticated"))])), (.rateLimit, .list([("GET", .string("2/minute"))])),
        ])
        #expect(limited.contains("iss") && !limited.contains("jti"))
    }

    @Test func aCachedTokenKeepsOnlyTheClaimsItsContextReads() throws {
        let configuration = try GateTests.configuration([(.require, .list([("/", .string("role:viewer"))]))])
        let cache = TokenCache(capacity: 10)
        let token = Fixtures.token(named: "RS256")
        let requirements = configuration.tokenRequirements
        let kept = try TokenVerifier.verify(
            token, keys: Fixtures.keys, requirements: requirements, now: Fixtures.tokens.now, cache: cache
        ).get()
        #expect(kept.members.map(\.key) == ["sub", "roles"])
        // The facts were read from the claims not kept: another audience is still refused from the cache.
        var other = requirements
        other.audiences = ["another-api"]
        let refused = TokenVerifier.verify(
            token, keys: Fixtures.keys, requirements: other, now: Fixtures.tokens.now, cache: cache)
        #expect(refused.failure?.code == .wrongAudience && cache.hits == 1)
        // Without a cache (the CLI's verify) every claim is kept.
        let all = try TokenVerifier.verify(
            token, keys: Fixtures.keys, requirements: requirements, now: Fixtures.tokens.now
        ).get()
        #expect(all.claims.members.map(\.key) == ["iss", "aud", "sub", "iat", "exp", "roles"])
    }

    /// Keeping one claim, every fixture token still gets its outcome: the members not kept are
    /// checked as JSON (duplicates, NUL, depth) and the facts read from them as before.
    @Test("each fixture token gets its outcome keeping only sub", arguments: Fixtures.tokens.cases)
    func fixtureKeepingOneClaim(_ fixture: Fixtures.TokenCase) {
        var requirements = Fixtures.requirements
        requirements.claims = ClaimNames(["sub"])
        let result = TokenVerifier.verify(
            fixture.token, keys: Fixtures.keys, requirements: requirements, now: Fixtures.tokens.now,
            cache: TokenCache(capacity: 4))
        switch result {
        case .success(let claims):
            #expect(fixture.expect == "valid", "accepted, expected \(fixture.expect)")
            #expect(claims.members.allSatisfy { $0.key == "sub" })
        case .failure(let error): #expect(error.code.rawValue == fixture.expect, "\(error.message)")
        }
    }

    @Test func namesCoverAndJoin() {
        let a = ClaimNames(["sub", "roles", "sub"])
        let b = ClaimNames(["roles", "email"])
        #expect(a.covers(ClaimNames(["roles"])) && !a.covers(b) && !a.covers(.all) && ClaimNames.all.covers(b))
        let both = a.union(b)
        #expect(both.covers(a) && both.covers(b) && !both.contains("aud"))
        #expect(a.union(ClaimNames(["sub"])) === a && ClaimNames(["sub"]).union(a) === a)
        #expect(!ClaimNames(["é"]).contains("e\u{301}"))  // byte for byte, not canonical equivalence
    }
}
