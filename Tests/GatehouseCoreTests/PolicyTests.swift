import Testing

@testable import GatehouseCore

@Suite struct PolicyParserTests {
    @Test(arguments: [
        ("anonymous", "anonymous"),
        ("role:admin or role:ops and not deny", "role:admin or role:ops and not deny"),
        ("(role:admin or role:ops) and authenticated", "(role:admin or role:ops) and authenticated"),
        ("not not role:a", "not not role:a"),
        ("role:'two words' and group:\"g-1\"", "role:'two words' and group:g-1"),
        ("scope:api://read and user:alice@example.com", "scope:api://read and user:alice@example.com"),
    ])
    func parsesAndPrintsWithPrecedence(_ source: String, _ printed: String) throws {
        #expect(try PolicyParser.parse(source).description == printed)
    }

    @Test func andBindsTighterThanOr() throws {
        guard case .or(.role("a"), .and(.role("b"), .role("c"))) = try PolicyParser.parse("role:a or role:b and role:c")
        else {
            Issue.record("wrong tree")
            return
        }
    }

    @Test(arguments: [
        ("role:admin andd role:x", 12, "expected 'and', 'or' or the end"),
        ("Role:admin", 1, "unknown predicate 'Role:'"),
        ("(role:a or role:b", 1, "'(' is never closed"),
        ("role:a)", 7, "unbalanced ')'"),
        ("role:", 6, "expected a name after 'role:'"),
        ("", 1, "expected an expression"),
        ("allow", 1, "unknown keyword 'allow'"),
        ("role:'open", 6, "string is never closed"),
        ("not", 4, "expected an expression"),
    ])
    func reportsErrorsWithTheirColumn(_ source: String, _ column: Int, _ message: String) {
        #expect {
            _ = try PolicyParser.parse(source)
        } throws: { error in
            guard let error = error as? PolicyError else { return false }
            return error.column == column && error.message.hasPrefix(message)
                && error.description.hasSuffix("\n    " + String(repeating: " ", count: column - 1) + "^")
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let source = String(repeating: "(", count: 10_000) + "deny" + String(repeating: ")", count: 10_000)
        #expect(throws: PolicyError.self) { try PolicyParser.parse(source) }
        #expect(throws: PolicyError.self) { try PolicyParser.parse(String(repeating: "not ", count: 10_000) + "deny") }
    }

    static func context(
        claims: [(String, JSON)]? = nil, captures: [(name: String, value: String)] = [],
        headers: [String: String] = [:], ip: String = "192.0.2.10"
    ) -> Expression.Context {
        let request = HTTPRequest(method: "POST", path: "/t/acme/x", host: "api.example.test", remoteIP: ip) {
            headers[$0]
        }
        let identity = claims.map { Identity(claims: JSONObject(members: $0), names: ClaimPaths()) }
        return Expression.Context(identity: identity, captures: captures, request: request)
    }

    func truth(
        _ source: String, _ context: Expression.Context, captures: [String]? = ["tenant"]
    ) throws
        -> Expression.Truth
    {
        var trace: [String]? = []
        return try PolicyParser.parse(source, captures: captures).evaluate(context, trace: &trace)
    }

    @Test func threeValuedLogicWithoutAnIdentity() throws {
        let none = PolicyParserTests.context()
        #expect(try truth("anonymous or role:a", none) == .yes)
        #expect(try truth("deny and role:a", none) == .no)
        #expect(try truth("not role:banned", none) == .unknown)
        #expect(try truth("role:a or deny", none) == .unknown)
        #expect(try truth("claims.tenant == path.tenant", none) == .unknown)
        #expect(try truth("request.method == 'POST' or claims.x exists", none) == .yes)
        #expect(try truth("request.ip in ['10.0.0.0/8'] and role:a", none) == .no)
    }

    static let claims: [(String, JSON)] = [
        ("sub", .string("alice")), ("tenant", .string("acme")), ("level", .integer(3)), ("ratio", .real(0.5)),
        ("flows", .array([.string("etl"), .string("report")])), ("email", .string("alice@example.com")),
        ("verified", .bool(true)), ("org", .object(JSONObject(members: [("id", .string("o-1"))]))),
        ("https://example.com/roles", .array([.string("ns-admin")])), ("name", .string("caf\u{e9}")),
    ]

    @Test(arguments: [
        ("claims.tenant == path.tenant", true), ("claims.tenant != path.tenant", false),
        ("claims.level > 2", true), ("claims.level >= 3.5", false), ("claims.ratio < 1", true),
        ("claims.level == 3.0", true), ("claims.email ends-with '@example.com'", true),
        ("claims.email starts-with 'bob'", false), ("claims.email contains '@'", true),
        ("claims.email contains 'alice@example.com'", true), ("claims.email contains 'bob'", false),
        ("claims.email contains ''", true), ("claims.email contains 'alice@example.com.'", false),
        ("claims.level contains 3", false), ("claims.flows contains 'et'", false), ("'rep' in claims.flows", false),
        ("claims.flows contains 'etl'", true), ("claims.flows contains path.tenant", false),
        ("'report' in claims.flows", true), ("claims.tenant in ['acme', 'globex']", true),
        ("claims.flows in ['report']", true), ("claims.verified == true", true),
        ("claims.org.id == 'o-1'", true), ("claims.flows.1 == 'report'", true), ("claims.flows.2 exists", false),
        ("claims.'https://example.com/roles' contains 'ns-admin'", true),
        ("claims.missing == 'x'", false), ("claims.missing != 'x'", false), ("claims.missing exists", false),
        ("claims.tenant exists", true), ("claims.email matches '^[a-z]+@example\\.com$'", true),
        ("claims.level matches '3'", false), ("request.header.X-Tenant == 'acme'", true),
        ("request.header.X-Other exists", false), ("request.host == 'api.example.test'", true),
        ("request.ip in ['192.0.2.0/24', '::1']", true), ("request.ip in ['192.0.3.0/24']", false),
        ("claims.name == 'cafe\u{301}'", false), ("claims.name == 'caf\u{e9}'", true),
        ("claims.tenant < 'b'", true), ("claims.level == '3'", false),
    ])
    func operators(_ source: String, _ expected: Bool) throws {
        let context = PolicyParserTests.context(
            claims: PolicyParserTests.claims,
            captures: [("tenant", "acme")], headers: ["X-Tenant": "acme"])
        #expect(try truth(source, context) == (expected ? .yes : .no))
    }

    @Test(arguments: [("bob@contractor.example", false), ("alice@example.com", true)])
    func containsOnAStringIsASubstringTest(_ email: String, _ allowed: Bool) throws {
        let rule = "authenticated and not claims.email contains '@contractor.example'"
        let context = PolicyParserTests.context(claims: [("sub", .string("u")), ("email", .string(email))])
        #expect(try truth(rule, context) == (allowed ? .yes : .no))
    }

    @Test func containsReadsAJoinedHeader() throws {
        let beta = PolicyParserTests.context(headers: ["Cookie": "a=1; beta=1"])
        #expect(try truth("request.header.Cookie contains 'beta=1'", beta) == .yes)
        let other = PolicyParserTests.context(headers: ["Cookie": "a=1; beta=2"])
        #expect(try truth("request.header.Cookie contains 'beta=1'", other) == .no)
    }

    @Test func andOrAreDecidedByBothSides() throws {
        let known = PolicyParserTests.context(claims: [("sub", .string("u"))])
        #expect(try truth("authenticated and deny", known) == .no)
        #expect(try truth("anonymous and role:a", known) == .no)
        #expect(try truth("role:a or anonymous", known) == .yes)
        #expect(try truth("deny or role:a", known) == .no)
        #expect(try truth("anonymous and not role:a", PolicyParserTests.context()) == .unknown)
    }

    @Test func ipv6AndMappedAddresses() throws {
        let v6 = PolicyParserTests.context(ip: "2001:db8::5")
        #expect(try truth("request.ip in ['2001:db8::/32']", v6) == .yes)
        #expect(try truth("request.ip in ['2001:db9::/32', '10.0.0.0/8']", v6) == .no)
        let mapped = PolicyParserTests.context(ip: "::ffff:10.1.2.3")
        #expect(try truth("request.ip in ['10.0.0.0/8']", mapped) == .yes)
    }

    @Test(
        arguments: [
            ("path.tenant == 'x'", ["ns"], "unknown 'path.tenant' (the pattern has {ns})"),
            ("path.tenant == 'x'", nil, "unknown 'path.tenant' (gatehouse.default has no pattern)"),
            ("claims.email matches '(unclosed'", ["tenant"], "bad regular expression"),
            ("claims.email matches claims.x", ["tenant"], "'matches' takes a regular expression in quotes"),
            ("request.ip in ['10.0.0.0/33']", ["tenant"], "expected addresses and CIDR blocks"),
            ("claims.x in 'abc'", ["tenant"], "'in' takes a list"),
            ("claims.x < true", ["tenant"], "'<' compares numbers or strings"),
            ("claims.x", ["tenant"], "expected an operator"),
            ("'a' exists", ["tenant"], "'exists' applies to"),
            ("claims.x == [", ["tenant"], "expected a value"),
            ("claims.x == []", ["tenant"], "a list needs at least one element"),
        ] as [(String, [String]?, String)])
    func typeErrorsAtLoadTime(_ source: String, _ captures: [String]?, _ message: String) {
        #expect {
            _ = try PolicyParser.parse(source, captures: captures)
        } throws: { error in
            (error as? PolicyError)?.message.hasPrefix(message) == true
        }
    }

    @Test func regexErrorsPointIntoThePattern() {
        do {
            _ = try PolicyParser.parse("claims.a matches 'ab(c'")
            Issue.record("compiled")
        } catch {
            #expect(error.column > 18)
        }
    }
}

@Suite struct PathPatternTests {
    func matches(_ pattern: String, _ path: String, method: String = "GET") throws -> [String: String]? {
        let compiled = try PathPattern(pattern)
        var path = path
        var method = method
        guard method.withUTF8({ compiled.matches(method: $0) }) else { return nil }
        guard let captures = path.withUTF8({ compiled.match(path: $0) }) else { return nil }
        return Dictionary(uniqueKeysWithValues: captures.map { ($0.name, $0.value) })
    }

    @Test func prefixesExactPathsAndSubpaths() throws {
        #expect(try matches("/api/", "/api/x") != nil)
        #expect(try matches("/api/", "/api/") != nil)
        #expect(try matches("/api/", "/api") == nil)
        #expect(try matches("/api", "/api") != nil)
        #expect(try matches("/api", "/api/x") != nil)
        #expect(try matches("/api", "/apix") == nil)
        #expect(try matches("/", "/anything/at/all") != nil)
    }

    @Test func methodLists() throws {
        #expect(try matches("GET,HEAD /api/", "/api/x", method: "HEAD") != nil)
        #expect(try matches("GET,HEAD /api/", "/api/x", method: "POST") == nil)
        #expect(try matches("GET /api/", "/api/x", method: "get") == nil)
    }

    @Test func capturesBindOneNonEmptySegment() throws {
        #expect(try matches("/t/{tenant}/{ns}/", "/t/acme/prod/topic") == ["tenant": "acme", "ns": "prod"])
        #expect(try matches("/t/{tenant}", "/t/acme") == ["tenant": "acme"])
        #expect(try matches("/t/{tenant}", "/t/acme/more") == ["tenant": "acme"])
        #expect(try matches("/t/{tenant}/x", "/t//x") == nil)
        #expect(try matches("/t/{tenant}/", "/t/acme") == nil)
    }

    @Test(arguments: ["api/", "get /x", "GET  /x", "/a/{x", "/a/b{x}", "/a/{1x}/", "/a/{x}/{x}", "/a b", "/a}"])
    func refusesBadPatterns(_ pattern: String) {
        #expect(throws: PolicyError.self) { try PathPattern(pattern) }
    }

    @Test func theMostSpecificRuleWins() throws {
        let rules = try RuleSet([
            ("/", "deny"), ("/api/", "authenticated"), ("/api/{x}/admin", "role:admin"),
            ("/api/flows/", "role:viewer"), ("POST /api/flows/", "role:operator"), ("/api/flows/", "role:dup"),
        ])
        func chosen(_ method: String, _ path: String) -> String? {
            var method = method
            var path = path
            return method.withUTF8 { m in
                path.withUTF8 { p in rules.select(method: m, path: p)?.rule.expression.description }
            }
        }
        #expect(chosen("GET", "/api/flows/1") == "role:viewer")  // declared before its tie
        #expect(chosen("POST", "/api/flows/1") == "role:operator")  // a method list beats none
        #expect(chosen("GET", "/api/x/admin") == "role:admin")  // same literal prefix as "/api/", more segments
        #expect(chosen("GET", "/other") == "deny")
        #expect(chosen("GET", "/api/runs") == "authenticated")
    }
}

@Suite("Rule selection through the segment index")
struct RuleIndexTests {
    /// A small deterministic generator, so a failure can be replayed.
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    @Test func theIndexChoosesWhatAScanOfEveryRuleChooses() throws {
        var random = Generator(state: 42)
        let words = ["api", "flows", "runs", "admin", "v2", "x", ""]
        func path(_ length: Int, captures: Bool) -> String {
            var names = 0
            return "/"
                + (0..<length).map { _ in
                    if captures, random.next(4) == 0 {
                        names += 1
                        return "{c\(names)}"
                    }
                    return words[random.next(words.count - (captures ? 1 : 0))]
                }.joined(separator: "/")
        }
        var entries = [(pattern: String, expression: String)]()
        for index in 0..<300 {
            var pattern = path(random.next(4), captures: true)
            if random.next(2) == 0 && pattern != "/" { pattern += "/" }
            if random.next(3) == 0 { pattern = ["GET", "POST", "GET,HEAD"][random.next(3)] + " " + pattern }
            entries.append((pattern, "user:rule\(index)"))
        }
        let rules = try RuleSet(entries)
        for _ in 0..<3000 {
            var request = path(random.next(5), captures: false) + (random.next(3) == 0 ? "/" : "")
            var method = ["GET", "POST", "HEAD", "PUT"][random.next(4)]
            let scanned = method.withUTF8 { m in
                request.withUTF8 { p in
                    rules.rules.first { $0.pattern.matches(method: m) && $0.pattern.match(path: p) != nil }
                }
            }
            let indexed = method.withUTF8 { m in request.withUTF8 { p in rules.select(method: m, path: p)?.rule } }
            #expect(indexed?.index == scanned?.index, "\(method) \(request)")
        }
    }

    @Test func rulesThatCanNeverBeChosenAreReported() throws {
        let rules = try RuleSet([
            ("/api/", "role:a"), ("GET /api/", "role:b"), ("/api/", "role:c"),
            ("/t/{a}/", "role:d"), ("/t/{b}/", "role:e"), ("POST /api/", "role:f"),
            ("GET,HEAD /x", "role:g"), ("HEAD /x", "role:h"),
        ])
        let hidden = rules.unreachable.map { "\($0.rule.pattern) by \($0.hiddenBy.pattern)" }
        #expect(hidden == ["/api/ by /api/", "/t/{b}/ by /t/{a}/", "HEAD /x by GET,HEAD /x"])
    }
}
