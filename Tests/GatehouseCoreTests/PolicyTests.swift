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
        else { Issue.record("wrong tree"); return }
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

    @Test func threeValuedLogicWithoutAnIdentity() throws {
        var trace = [String]()
        #expect(try PolicyParser.parse("anonymous or role:a").evaluate(nil, trace: &trace) == .yes)
        #expect(try PolicyParser.parse("deny and role:a").evaluate(nil, trace: &trace) == .no)
        #expect(try PolicyParser.parse("not role:banned").evaluate(nil, trace: &trace) == .unknown)
        #expect(try PolicyParser.parse("role:a or deny").evaluate(nil, trace: &trace) == .unknown)
    }
}

@Suite struct PathPatternTests {
    func matches(_ pattern: String, _ path: String, method: String = "GET") throws -> [String: String]? {
        let compiled = try PathPattern(pattern)
        var path = path, method = method
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
            var method = method, path = path
            return method.withUTF8 { m in path.withUTF8 { p in rules.select(method: m, path: p)?.rule.expression.description } }
        }
        #expect(chosen("GET", "/api/flows/1") == "role:viewer")  // declared before its tie
        #expect(chosen("POST", "/api/flows/1") == "role:operator")  // a method list beats none
        #expect(chosen("GET", "/api/x/admin") == "role:admin")  // same literal prefix as "/api/", more segments
        #expect(chosen("GET", "/other") == "deny")
        #expect(chosen("GET", "/api/runs") == "authenticated")
    }
}
