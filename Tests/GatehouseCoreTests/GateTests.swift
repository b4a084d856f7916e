import Testing

@testable import GatehouseCore

@Suite("Decisions for whole requests")
struct GateTests {
    static func configuration(_ directives: [(Directive, ConfigValue)]) throws -> Configuration {
        var configuration = Configuration()
        let base: [(Directive, ConfigValue)] = [
            (.issuer, .string(Fixtures.tokens.requirements.issuer)),
            (.audience, .string(Fixtures.tokens.requirements.audience[0])),
            (.jwks, .string(Fixtures.path("jwks.json"))),
        ]
        for (directive, value) in base + directives {
            configuration[directive] = try Setting.compile(directive, value)
        }
        return configuration
    }

    static let rules: ConfigValue = .list([
        ("/public/", .string("anonymous")), ("/", .string("role:admin")), ("/read/", .string("role:viewer")),
        ("/scoped/", .string("scope:write")), ("/closed/", .string("deny")),
    ])

    func decide(
        _ path: String, authorization: String?, headers extra: [String: String] = [:],
        configuration: Configuration? = nil
    ) throws -> Decision {
        let configuration = try configuration ?? GateTests.configuration([(.require, GateTests.rules)])
        let request = HTTPRequest(method: "GET", path: path, host: "api.example.test", remoteIP: "192.0.2.1") { name in
            name == "Authorization" ? authorization : extra[name]
        }
        return try #require(Gate.decide(request, configuration: configuration, now: Fixtures.tokens.now))
    }

    let viewer = "Bearer " + Fixtures.token(named: "RS256")  // roles: ["viewer"], sub: alice

    @Test func noTokenIs401WithABearerChallenge() throws {
        let decision = try decide("/read/x", authorization: nil)
        #expect(decision.verdict.status == 401 && decision.verdict.reason == .noToken)
        #expect(decision.verdict.wwwAuthenticate == "Bearer realm=\"api.example.test\"")
    }

    @Test func anInvalidTokenIs401InvalidToken() throws {
        let decision = try decide("/read/x", authorization: "Bearer " + Fixtures.token(named: "expired"))
        #expect(decision.verdict.status == 401 && decision.verdict.reason == .expired)
        #expect(
            decision.verdict.wwwAuthenticate?.contains(
                "error=\"invalid_token\", error_description=\"the token has expired\"")
                == true)
    }

    @Test func aValidTokenWithoutTheRoleIs403() throws {
        let decision = try decide("/admin", authorization: viewer)
        #expect(decision.verdict.status == 403 && decision.verdict.reason == .policyDenied)
        #expect(decision.effects.requestHeaders.isEmpty && decision.effects.environment.isEmpty)
    }

    @Test func aValidTokenWithTheRolePassesWithItsIdentity() throws {
        let decision = try decide("/read/x", authorization: viewer)
        #expect(decision.verdict.status == 0)
        #expect(decision.effects.requestHeaders.map(\.name) == ["X-Auth-Subject"])
        #expect(decision.effects.requestHeaders.map(\.value) == ["alice"])
        #expect(
            decision.effects.environment.map { "\($0.name)=\($0.value)" } == ["REMOTE_USER=alice", "AUTH_TYPE=Bearer"])
        #expect(decision.effects.stripHeaders == ["X-Auth-Subject"])
    }

    @Test func anonymousRulesPassWithOrWithoutATokenAndIgnoreBadOnes() throws {
        #expect(try decide("/public/a", authorization: nil).verdict.status == 0)
        let withToken = try decide("/public/a", authorization: viewer)
        #expect(withToken.verdict.status == 0 && withToken.effects.requestHeaders.first?.value == "alice")
        let badToken = try decide(
            "/public/a", authorization: "Bearer " + Fixtures.token(named: "signed by another key"))
        #expect(badToken.verdict.status == 0 && badToken.effects.requestHeaders.isEmpty)
    }

    @Test func denyIs403EvenWithoutAToken() throws {
        #expect(try decide("/closed/", authorization: nil).verdict.status == 403)
    }

    @Test func aMissingScopeSaysInsufficientScope() throws {
        let decision = try decide("/scoped/x", authorization: viewer)
        #expect(decision.verdict.status == 403)
        #expect(decision.verdict.wwwAuthenticate?.contains("error=\"insufficient_scope\", scope=\"write\"") == true)
    }

    @Test func noMatchingRuleFallsToTheDefault() throws {
        let configuration = try GateTests.configuration([(.require, .list([("/api/", .string("authenticated"))]))])
        let decision = try decide("/elsewhere", authorization: viewer, configuration: configuration)
        #expect(
            decision.verdict.status == 403 && decision.verdict.reason == .noRule
                && decision.verdict.rule == "gatehouse.default")
        let open = try GateTests.configuration([
            (.require, .list([("/api/", .string("deny"))])),
            (.defaultRule, .string("authenticated")),
        ])
        #expect(try decide("/elsewhere", authorization: viewer, configuration: open).verdict.status == 0)
    }

    @Test(arguments: ["Bearer a.b.c, Bearer d.e.f", "Basic YTpi, Bearer a.b.c", "Bearer ", "Bearer a b.c.d"])
    func malformedCredentialsAre401(_ authorization: String) throws {
        let decision = try decide("/read/", authorization: authorization)
        #expect(decision.verdict.status == 401 && decision.verdict.reason == .malformed)
    }

    @Test func anotherSchemeIsNoToken() throws {
        #expect(try decide("/read/", authorization: "Basic YWxpY2U6c2VjcmV0").verdict.reason == .noToken)
        #expect(try decide("/read/", authorization: "bearer " + Fixtures.token(named: "RS256")).verdict.status == 0)
    }

    @Test func identityHeadersAndEnvironmentFollowTheirDirectives() throws {
        let configuration = try GateTests.configuration([
            (.require, .list([("/", .string("authenticated"))])),
            (
                .headers,
                .list([
                    ("X-User", .string("sub")), ("X-Roles", .string("roles")),
                    ("X-Roles-Json", .string("roles")),
                ])
            ),
            (.env, .list([("GATEHOUSE_ISSUER", .string("iss"))])),
        ])
        let decision = try decide("/x", authorization: viewer, configuration: configuration)
        #expect(
            decision.effects.requestHeaders.map { "\($0.name): \($0.value)" }
                == ["X-User: alice", "X-Roles: viewer", "X-Roles-Json: [\"viewer\"]"])
        #expect(decision.effects.environment.map(\.name) == ["GATEHOUSE_ISSUER", "AUTH_TYPE"])
        #expect(decision.effects.stripHeaders == ["X-User", "X-Roles", "X-Roles-Json"])
    }

    /// A cached token keeps the identity and the values it rendered per context's identity
    /// settings: each context sees its own headers, environment and roles, hit after hit.
    @Test func aCachedTokenGivesEachContextItsOwnIdentityAndHeaders() throws {
        let cache = TokenCache(capacity: 10)
        let first = try GateTests.configuration([
            (.require, .list([("/", .string("role:viewer"))])),
            (.headers, .list([("X-User", .string("sub"))])),
        ])
        var second = first  // the same keys: one cache entry serves both
        second[.require] = try Setting.compile(.require, .list([("/", .string("role:alice"))]))
        second[.rolesClaim] = try Setting.compile(.rolesClaim, .string("sub"))
        second[.headers] = try Setting.compile(
            .headers, .list([("X-Issuer", .string("iss")), ("X-Roles", .string("roles"))]))
        second[.env] = try Setting.compile(.env, .list([("AUTH_ROLES", .string("roles"))]))
        var third = first
        third[.headers] = try Setting.compile(.headers, .list([("X-Audience", .string("aud"))]))
        #expect(first.identitySettings !== second.identitySettings)
        let request = HTTPRequest(method: "GET", path: "/x", host: "api.example.test", remoteIP: "192.0.2.1") {
            $0 == "Authorization" ? viewer : nil
        }
        for round in 0..<3 {
            let one = try #require(
                Gate.decide(request, configuration: first, now: Fixtures.tokens.now, cache: cache))
            #expect(one.verdict.status == 0)
            #expect(one.effects.requestHeaders.map { "\($0.name): \($0.value)" } == ["X-User: alice"])
            #expect(
                one.effects.environment.map { "\($0.name)=\($0.value)" } == ["REMOTE_USER=alice", "AUTH_TYPE=Bearer"])
            let two = try #require(
                Gate.decide(request, configuration: second, now: Fixtures.tokens.now, cache: cache))
            #expect(two.verdict.status == 0)  // role "alice", read from sub in this context only
            #expect(
                two.effects.requestHeaders.map { "\($0.name): \($0.value)" }
                    == ["X-Issuer: \(Fixtures.tokens.requirements.issuer)", "X-Roles: viewer"])
            #expect(
                two.effects.environment.map { "\($0.name)=\($0.value)" } == ["AUTH_ROLES=viewer", "AUTH_TYPE=Bearer"])
            let three = try #require(
                Gate.decide(request, configuration: third, now: Fixtures.tokens.now, cache: cache))
            #expect(
                three.effects.requestHeaders.map { "\($0.name): \($0.value)" }
                    == ["X-Audience: \(Fixtures.tokens.requirements.audience[0])"])
            let again = try #require(
                Gate.decide(request, configuration: second, now: Fixtures.tokens.now, cache: cache, explain: true))
            #expect(again.verdict.status == 0 && again.effects.requestHeaders.map(\.name) == ["X-Issuer", "X-Roles"])
            // (the second context reads "iss" and the third "aud", which the entry made for the first
            // did not keep: verified once more for each, keeping the claims of all, then found every time)
            #expect(cache.hits == 4 * round + 1 && cache.misses == 3)
        }
    }

    @Test func aCachedClaimThatCannotTravelSafelyIsRefusedEveryTime() throws {
        let cache = TokenCache(capacity: 10)
        let configuration = try GateTests.configuration([(.require, GateTests.rules)])
        let token = "Bearer " + Fixtures.token(named: "sub with a line break (valid; unsafe in a header)")
        let request = HTTPRequest(method: "GET", path: "/read/x", host: "api.example.test", remoteIP: "192.0.2.1") {
            $0 == "Authorization" ? token : nil
        }
        for _ in 0..<2 {
            let decision = try #require(
                Gate.decide(request, configuration: configuration, now: Fixtures.tokens.now, cache: cache))
            #expect(decision.verdict.status == 403 && decision.verdict.reason == .unsafeClaimValue)
            #expect(decision.effects.requestHeaders.isEmpty && decision.effects.environment.isEmpty)
        }
        #expect(cache.hits == 1)
    }

    @Test func aClaimThatCannotTravelSafelyIsA403() throws {
        let token = "Bearer " + Fixtures.token(named: "sub with a line break (valid; unsafe in a header)")
        let decision = try decide("/read/x", authorization: token)
        #expect(decision.verdict.status == 403 && decision.verdict.reason == .unsafeClaimValue)
        #expect(
            decision.effects.requestHeaders.isEmpty && decision.effects.environment.isEmpty
                && decision.verdict.wwwAuthenticate == nil)
        let anonymous = try decide("/public/x", authorization: token)  // goes on, without the identity
        #expect(
            anonymous.verdict.status == 0 && anonymous.effects.requestHeaders.isEmpty
                && anonymous.diagnostics.problem != nil)
    }

    @Test func tokensComeFromTheConfiguredSourcesAndFromOneOnly() throws {
        let token = Fixtures.token(named: "RS256")
        let configuration = try GateTests.configuration([
            (.require, GateTests.rules),
            (
                .tokenSources,
                .list([
                    (nil, .string("cookie:session")), (nil, .string("query:access_token")),
                    (nil, .string("header:X-Token")),
                ])
            ),
        ])
        func decide(cookie: String? = nil, query: String = "", header: String? = nil) throws -> Decision {
            let request = HTTPRequest(method: "GET", path: "/read/x", host: "h", remoteIP: "192.0.2.1", query: query) {
                switch $0 {
                case "Cookie": cookie
                case "X-Token": header
                case "Authorization": "Bearer " + token
                default: nil
                }
            }
            return try #require(Gate.decide(request, configuration: configuration, now: Fixtures.tokens.now))
        }
        #expect(try decide().verdict.reason == .noToken)  // Authorization is not a source here
        #expect(try decide(cookie: "theme=dark; session=\(token)").verdict.status == 0)
        #expect(try decide(cookie: "session=\"\(token)\"").verdict.status == 0)
        #expect(try decide(query: "a=1&access_token=\(token)").verdict.status == 0)
        #expect(try decide(header: token).verdict.status == 0)
        #expect(try decide(cookie: "session=\(token)", header: token).verdict.reason == .malformed)
        #expect(try decide(cookie: "session=\(token); session=\(token)").verdict.reason == .malformed)
        #expect(try decide(cookie: "Session=\(token)").verdict.reason == .noToken)  // names are exact
        #expect(try decide(cookie: "xsession=\(token)").verdict.reason == .noToken)
        // Whitespace around a pair is no part of it (RFC 6265 §5.2), so a second copy behind a tab counts.
        #expect(try decide(cookie: "theme=dark;\tsession=\(token)\t ").verdict.status == 0)
        #expect(try decide(cookie: "session=\(token);\tsession=\(token)").verdict.reason == .malformed)
    }

    @Test func rateLimitsArePerCallerAndAnswer429WithRetryAfter() throws {
        let configuration = try GateTests.configuration([
            (.require, GateTests.rules), (.rateLimit, .list([("GET", .string("2/minute"))])),
        ])
        let limiter = RateLimiter()
        func decide(_ authorization: String?, at time: Int64, ip: String = "192.0.2.1") throws -> Decision {
            let request = HTTPRequest(method: "GET", path: "/public/x", host: "h", remoteIP: ip) {
                $0 == "Authorization" ? authorization : nil
            }
            return try #require(Gate.decide(request, configuration: configuration, now: time, limiter: limiter))
        }
        let now = Fixtures.tokens.now
        #expect(try decide(viewer, at: now).verdict.status == 0)
        #expect(try decide(viewer, at: now).verdict.status == 0)
        let refused = try decide(viewer, at: now)
        #expect(
            refused.verdict.status == 429 && refused.verdict.reason == .rateLimited
                && refused.effects.requestHeaders.isEmpty)
        #expect(refused.effects.responseHeaders.first { $0.name == "Retry-After" }?.value == "30")
        #expect(try decide(nil, at: now).verdict.status == 0)  // another caller: the client address
        #expect(try decide(viewer, at: now + 30).verdict.status == 0)  // one request refilled
        for (methods, rate, says) in [
            ("get", "2/minute", "the methods must be"), ("*", "0/minute", "the count must be"),
            ("*", "30", "the rate must be N/unit"),
            ("GET,POST", "30/min", "the unit must be second, minute, hour or day, not \"min\""),
        ] {
            let error = #expect(throws: ConfigError.self) { try RateLimiter.Limit(methods: methods, rate: rate) }
            #expect(error?.description.hasPrefix(says) == true)
        }
    }

    @Test func inheritedRolesCount() throws {
        let configuration = try GateTests.configuration([
            (.require, .list([("/", .string("role:reader"))])),
            (.roleInherits, .list([("viewer", .string("reader"))])),
        ])
        #expect(try decide("/x", authorization: viewer, configuration: configuration).verdict.status == 0)
    }

    @Test func reportOnlyDecidesButNeverRefuses() throws {
        let configuration = try GateTests.configuration([(.require, GateTests.rules), (.mode, .string("report-only"))])
        let decision = try decide("/admin", authorization: viewer, configuration: configuration)
        #expect(
            decision.verdict.status == 0 && decision.diagnostics.wouldRefuse == 403
                && decision.verdict.reason == .policyDenied)
        #expect(decision.effects.requestHeaders.isEmpty && decision.verdict.wwwAuthenticate == nil)
        let allowed = try decide("/read/x", authorization: viewer, configuration: configuration)
        #expect(
            allowed.verdict.status == 0 && allowed.diagnostics.wouldRefuse == nil
                && allowed.effects.requestHeaders.count == 1)
    }

    @Test func insufficientScopeNamesOnlyTheScopesAskedFor() throws {
        let expression = try PolicyParser.parse("scope:write and not scope:banned or scope:admin")
        #expect(expression.scopes == ["write", "admin"])
    }

    @Test func aTabAfterBearerIsMalformed() throws {
        #expect(
            try decide("/read/", authorization: "Bearer\t" + Fixtures.token(named: "RS256")).verdict.reason
                == .malformed)
    }

    @Test func claimsWithControlCharactersAreRefused() throws {
        let field = IdentityField(name: "X-User", claim: ClaimPath("sub")!, asJSON: false)
        let claims = JSONObject(members: [("sub", .string("alice\r\nX-Admin: yes"))])
        #expect(throws: TokenError.self) { _ = try field.render(from: claims, isList: false) }
        let list = JSONObject(members: [("sub", .array([.string("a,b")]))])
        #expect(throws: TokenError.self) { _ = try field.render(from: list, isList: false) }
        let json = IdentityField(name: "X-User-Json", claim: ClaimPath("sub")!, asJSON: true)
        #expect(try json.render(from: claims, isList: false) == "\"alice\\r\\nX-Admin: yes\"")
    }

    /// Claims as `gatehouse check --claims` gives them, through headers and env.
    func attached(_ claims: [(String, JSON)], rolesClaim: String? = nil) throws -> Decision {
        var directives: [(Directive, ConfigValue)] = [
            (.require, .list([("/", .string("authenticated")), ("/public/", .string("anonymous"))])),
            (
                .headers,
                .list([
                    ("X-Auth-Subject", .string("sub")), ("X-Auth-Roles", .string("roles")),
                    ("X-Auth-Team", .string("team")), ("X-Auth-Name", .string("name")),
                ])
            ),
            (.env, .list([("REMOTE_USER", .string("sub"))])),
        ]
        if let rolesClaim { directives.append((.rolesClaim, .string(rolesClaim))) }
        let configuration = try GateTests.configuration(directives)
        let request = HTTPRequest(method: "GET", path: "/x", host: "api.example.test", remoteIP: "192.0.2.1") { _ in
            nil
        }
        return try #require(
            Gate.decide(
                request, configuration: configuration, now: Fixtures.tokens.now,
                presented: VerifiedClaims(JSONObject(members: claims))))
    }

    @Test(arguments: [
        ("sub", JSON.string("  admin  ")), ("sub", .string("admin ")), ("name", .string(" Alice")),
        ("roles", .string("viewer, admin")), ("roles", .string("viewer,admin")),
        ("roles", .array([.string("viewer"), .string(" admin")])), ("team", .array([.string("a,b")])),
    ])
    func valuesThatReadDifferentlyDownstreamAreRefused(_ claim: String, _ value: JSON) throws {
        let base: [(String, JSON)] = [("sub", .string("alice"))]
        let decision = try attached(base.filter { $0.0 != claim } + [(claim, value)])
        #expect(decision.verdict.status == 403 && decision.verdict.reason == .unsafeClaimValue)
        #expect(
            decision.effects.requestHeaders.isEmpty && decision.effects.environment.isEmpty
                && decision.verdict.wwwAuthenticate == nil)
    }

    @Test func aConfiguredListClaimIsAListToo() throws {
        let claims: [(String, JSON)] = [("sub", .string("alice")), ("team", .string("red, blue"))]
        #expect(try attached(claims).verdict.status == 0)  // a free-text claim may hold a comma
        let asRoles = try attached(claims, rolesClaim: "team")
        #expect(asRoles.verdict.status == 403 && asRoles.verdict.reason == .unsafeClaimValue)
    }

    @Test func safeValuesTravelAsDocumented() throws {
        let decision = try attached([
            ("sub", .string("alice")), ("roles", .array([.string("viewer"), .string("admin")])),
            ("team", .string("red team")), ("name", .string("Smith, Alice")),
        ])
        #expect(decision.verdict.status == 0)
        #expect(
            decision.effects.requestHeaders.map { "\($0.name): \($0.value)" } == [
                "X-Auth-Subject: alice", "X-Auth-Roles: viewer, admin", "X-Auth-Team: red team",
                "X-Auth-Name: Smith, Alice",
            ])
    }
}
