import Testing

@testable import GatehouseCore

@Suite struct CoverageTests {
    func decide(_ path: String, claims: [(key: String, value: JSON)], coverage: Coverage) throws {
        let configuration = try GateTests.configuration([
            (
                .require,
                .list([
                    ("/a/", .string("role:x or (claims.level > 2 and role:y)")), ("/b/", .string("authenticated")),
                ])
            )
        ])
        let request = HTTPRequest(method: "GET", path: path, host: "h", remoteIP: "192.0.2.1") { _ in nil }
        _ = Gate.decide(
            request, configuration: configuration, now: 0, explain: false,
            presented: VerifiedClaims(JSONObject(members: claims)),
            coverage: coverage)
    }

    @Test func recordsTheRulesChosenAndEachOperandsTruths() throws {
        let coverage = Coverage()
        try decide("/a/1", claims: [("sub", .string("s")), ("roles", .array([.string("x")]))], coverage: coverage)
        try decide("/zzz", claims: [("sub", .string("s"))], coverage: coverage)
        #expect(coverage.chosen == ["/a/", "gatehouse.default"])
        let expression = try PolicyParser.parse("role:x or (claims.level > 2 and role:y)", captures: [])
        let branches = expression.branches
        #expect(branches.map(\.description) == ["role:x", "claims.level > 2 and role:y", "claims.level > 2", "role:y"])
        #expect(coverage.truths(of: branches[0], inRule: "/a/") == [.yes])
        // `or` stopped at its true left operand: the right one was never evaluated
        #expect(coverage.truths(of: branches[1], inRule: "/a/").isEmpty)

        try decide("/a/2", claims: [("sub", .string("s")), ("level", .integer(3))], coverage: coverage)
        #expect(coverage.truths(of: branches[0], inRule: "/a/") == [.yes, .no])
        #expect(coverage.truths(of: branches[1], inRule: "/a/") == [.no])
        #expect(coverage.truths(of: branches[2], inRule: "/a/") == [.yes])
        #expect(coverage.truths(of: branches[3], inRule: "/a/") == [.no])
        // recorded under the rule that was evaluated, not another
        #expect(coverage.truths(of: branches[0], inRule: "/b/").isEmpty)
    }
}
