import Testing

@testable import GatehouseCore

@Suite("gatehouse.claims-schema: declared claim types, rules checked against them, tokens refused that differ")
struct ClaimsSchemaTests {
    static let declared: ConfigValue = .list([
        ("teams", .string("array of strings")), ("email", .string("string")), ("tenant", .string("string")),
        ("level", .string("integer")), ("score", .string("number")), ("admin", .string("boolean")),
        ("ids", .string("array of numbers")), ("org", .string("object")), ("realm_access.roles", .string("array")),
        ("'https://example.com/tier'", .string("string")),
    ])

    static func schema(_ value: ConfigValue = declared) throws -> ClaimsSchema {
        try #require(try Setting.compile(.claimsSchema, value).value as? ClaimsSchema)
    }

    func message(_ value: ConfigValue) -> String {
        do {
            _ = try Setting.compile(.claimsSchema, value)
            return "compiled"
        } catch {
            return error.description
        }
    }

    @Test func badValuesNameTheDirectiveTheValueAndWhatWasExpected() {
        let types =
            "\"string\", \"number\", \"integer\", \"boolean\", \"array of strings\", \"array of numbers\", "
            + "\"array\", \"object\""
        #expect(
            message(.list([("teams", .string("array of string"))]))
                == "gatehouse.claims-schema: \"teams\" => \"array of string\": unknown type (did you mean "
                + "\"array of strings\"? expected one of \(types))")
        #expect(
            message(.list([("teams", .string("list"))]))
                == "gatehouse.claims-schema: \"teams\" => \"list\": unknown type (expected one of \(types))")
        #expect(message(.list([("teams", .string("String"))])).contains("did you mean \"string\"?"))
        #expect(
            message(.string("teams"))
                == "gatehouse.claims-schema: expected a list of CLAIM => TYPE like ( \"teams\" => \"array of "
                + "strings\", \"email\" => \"string\" ) with TYPE one of \(types), got \"teams\"")
        #expect(message(.list([])).hasPrefix("gatehouse.claims-schema: expected a list of CLAIM => TYPE"))
        #expect(message(.list([(nil, .string("string"))])).hasSuffix("got (\"string\")"))
        #expect(
            message(.list([("realm_access..roles", .string("array"))]))
                .hasPrefix("gatehouse.claims-schema: \"realm_access..roles\" => \"array\": expected a claim name"))
        #expect(
            message(.list([("a.b", .string("string")), ("a.'b'", .string("number"))]))
                == "gatehouse.claims-schema: \"a.'b'\" is declared twice (once per claim)")
        #expect(message(ClaimsSchemaTests.declared) == "compiled")
    }

    @Test func nestedAndQuotedPathsAreDeclared() throws {
        let schema = try ClaimsSchemaTests.schema()
        #expect(schema.declaredType(of: ClaimPath("realm_access.roles")!) == .array)
        #expect(schema.declaredType(of: ClaimPath("'https://example.com/tier'")!) == .string)
        #expect(schema.declaredType(of: ClaimPath("realm_access")!) == nil)
    }

    /// The first type error of `expression` against the schema, as lint and lighttpd -tt show it.
    func typeError(_ expression: String, pattern: String = "/t/{team}/") throws -> String? {
        try GateTests.configuration([
            (.require, .list([(pattern, .string(expression))])), (.claimsSchema, ClaimsSchemaTests.declared),
        ]).problems().first
    }

    @Test func aComparisonThatCanNeverHoldIsAnErrorAtItsOperator() throws {
        let equal = try #require(try typeError("role:x or claims.teams == 'x'"))
        #expect(
            equal
                == "gatehouse.require: rule \"/t/{team}/\" => \"role:x or claims.teams == 'x'\": claims.teams is an "
                + "array of strings (gatehouse.claims-schema); == compares it with a string, so it never holds: use "
                + "`'x' in claims.teams` or `claims.teams contains 'x'` at column 24:\n"
                + "    role:x or claims.teams == 'x'\n" + "                           ^")
        #expect(
            try typeError("claims.teams != path.team")?.contains(
                "!= compares it with a string, so it always holds: use `not path.team in claims.teams`") == true)
        #expect(
            try typeError("path.team in claims.email")?.contains(
                "claims.email is a string (gatehouse.claims-schema); in looks in a list: use "
                    + "`path.team == claims.email` at column 11") == true)
        #expect(
            try typeError("claims.level contains 3")?.contains(
                "claims.level is an integer (gatehouse.claims-schema); contains looks in lists and strings") == true)
        #expect(
            try typeError("claims.score >= '5'")?.contains(
                "claims.score is a number (gatehouse.claims-schema); >= compares it with a string, so it never holds")
                == true)
        #expect(
            try typeError("'5' < claims.level")?.contains(
                "claims.level is an integer (gatehouse.claims-schema); < compares it with a string") == true)
        #expect(
            try typeError("claims.teams > 'a'")?.contains(
                "claims.teams is an array of strings "
                    + "(gatehouse.claims-schema); > compares numbers or strings") == true)
        #expect(
            try typeError("claims.ids contains 'x'")?.contains(
                "claims.ids is an array of numbers (gatehouse.claims-schema); contains looks for a string in an "
                    + "array of numbers") == true)
        #expect(
            try typeError("3 in claims.teams")?.contains(
                "claims.teams is an array of strings (gatehouse.claims-schema); in looks for a number in an array "
                    + "of strings") == true)
        #expect(
            try typeError("claims.level in ['a', 'b']")?.contains(
                "claims.level is an integer (gatehouse.claims-schema); in looks for a number in an array of strings")
                == true)
        #expect(
            try typeError("claims.email contains 3")?.contains("contains looks for a number in a string") == true)
        #expect(
            try typeError("claims.admin == 'true'")?.contains("== compares it with a string, so it never holds") == true
        )
        #expect(
            try typeError("'x' == claims.teams")?.contains(
                "claims.teams is an array of strings (gatehouse.claims-schema); == compares it with a string, so it "
                    + "never holds: use "
                    + "`'x' in claims.teams` or `claims.teams contains 'x'`") == true)
        #expect(try typeError("claims.org == 'acme'")?.contains("== never holds for objects") == true)
        #expect(try typeError("claims.org != 'acme'")?.contains("!= always holds for objects") == true)
        #expect(try typeError("claims.teams starts-with 'a'")?.contains("starts-with compares strings") == true)
        #expect(try typeError("request.host ends-with claims.level")?.contains("ends-with compares strings") == true)
        #expect(try typeError("claims.teams matches '^a'")?.contains("matches tests strings") == true)
        #expect(
            try typeError("claims.'https://example.com/tier' == 1")?.hasPrefix(
                "gatehouse.require: rule \"/t/{team}/\" => \"claims.'https://example.com/tier' == 1\": "
                    + "claims.'https://example.com/tier' is a string") == true)
        #expect(try typeError("claims.realm_access.roles == 'x'")?.contains("an array (gatehouse") == true)
    }

    @Test(arguments: [
        "'x' in claims.teams", "claims.teams contains path.team", "claims.teams == ['a', 'b']", "claims.email == 'a'",
        "claims.email contains '@'", "claims.email matches '@x$'", "claims.level >= 2.5", "claims.score < 3",
        "claims.level == claims.score", "claims.admin == true", "claims.ids contains 3", "claims.level in [1, 2]",
        "claims.teams in ['a', 'b']", "claims.realm_access.roles contains 'admin'", "claims.org exists",
        "claims.undeclared == 3 and claims.undeclared contains 'x'", "claims.email starts-with path.team",
        "not 'x' in claims.teams", "path.team == 3", "claims.realm_access.roles == ['a']", "'x' != claims.email",
        "claims.org.name == 'acme'", "claims.tenant in claims.teams",
        "claims.teams contains claims.tenant",
    ])
    func comparisonsThatCanHoldPass(_ expression: String) throws {
        #expect(try typeError(expression) == nil)
    }

    @Test func theDefaultRuleIsCheckedToo() throws {
        var configuration = try GateTests.configuration([
            (.require, .list([("/x", .string("authenticated"))])), (.defaultRule, .string("claims.email contains 1")),
        ])
        #expect(configuration.problems().isEmpty)  // no schema: nothing is checked
        configuration[.claimsSchema] = try Setting.compile(.claimsSchema, ClaimsSchemaTests.declared)
        #expect(
            configuration.problems()
                == [
                    "gatehouse.default: claims.email is a string (gatehouse.claims-schema); contains looks for a "
                        + "number in a string (it finds strings only) at column 14:\n    claims.email contains 1\n"
                        + "                 ^"
                ])
    }

    @Test func everyIllTypedRuleIsReportedInTheDirectivesOrder() throws {
        let configuration = try GateTests.configuration([
            (
                .require,
                .list([
                    ("/z", .string("claims.teams == 'x'")), ("/a/b/c", .string("authenticated")),
                    ("/a", .string("claims.level contains 1")),
                ])
            ),
            (.claimsSchema, ClaimsSchemaTests.declared),
        ])
        let problems = configuration.problems()
        #expect(problems.count == 2)
        #expect(problems.first?.hasPrefix("gatehouse.require: rule \"/z\"") == true)
        #expect(problems.last?.hasPrefix("gatehouse.require: rule \"/a\"") == true)
    }

    // The check of a verified token's claims.

    func mismatch(_ claims: [(String, JSON)]) throws -> String? {
        try ClaimsSchemaTests.schema().check(JSONObject(members: claims))?.message
    }

    @Test func claimsOfTheirTypeOrAbsentPass() throws {
        #expect(
            try mismatch([
                ("teams", .array([.string("a")])), ("email", .string("a@x")), ("level", .integer(3)),
                ("score", .integer(3)), ("admin", .bool(false)), ("ids", .array([.integer(1), .real(2.5)])),
                ("org", .object(JSONObject(members: []))),
                ("realm_access", .object(JSONObject(members: [("roles", .array([.integer(1), .string("x")]))]))),
                ("https://example.com/tier", .string("gold")), ("undeclared", .array([.null])),
            ]) == nil)
        #expect(try mismatch([("teams", .array([]))]) == nil)
        #expect(try mismatch([("score", .real(2.5))]) == nil)
        #expect(try mismatch([]) == nil)
        #expect(try mismatch([("realm_access", .string("x"))]) == nil)  // the path leads nowhere: absent
    }

    @Test(arguments: [
        ("teams", JSON.string("red"), "claim \"teams\" is a string, not an array of strings (gatehouse.claims-schema)"),
        (
            "teams", .array([.string("a"), .integer(7)]),
            "claim \"teams\" is an array whose element 1 is an integer, not "
        ),
        (
            "ids", .array([.string("7")]),
            "claim \"ids\" is an array whose element 0 is a string, not an array of numbers"
        ),
        ("level", .real(3.5), "claim \"level\" is a number with a fraction, not an integer"),
        ("level", .string("3"), "claim \"level\" is a string, not an integer"),
        ("score", .bool(true), "claim \"score\" is a boolean, not a number"),
        ("admin", .string("true"), "claim \"admin\" is a string, not a boolean"),
        ("email", .null, "claim \"email\" is null, not a string"),
        ("email", .array([.string("a@x")]), "claim \"email\" is an array, not a string"),
        ("org", .array([]), "claim \"org\" is an array, not an object"),
        ("https://example.com/tier", .integer(1), "claim \"'https://example.com/tier'\" is an integer, not a string"),
    ])
    func aClaimOfAnotherTypeIsNamedWithBothTypesAndNeverItsValue(
        _ claim: String, _ value: JSON, _ says: String
    )
        throws
    {
        let message = try #require(try mismatch([(claim, value)]))
        #expect(message.hasPrefix(says))
        #expect(!message.contains("red") && !message.contains("a@x"))
    }

    @Test func aNestedClaimOfAnotherTypeIsRefused() throws {
        let nested = JSON.object(JSONObject(members: [("roles", .string("admin"))]))
        #expect(
            try mismatch([("realm_access", nested)]) == "claim \"realm_access.roles\" is a string, not an array "
                + "(gatehouse.claims-schema)")
    }

    // The refusal, whole requests.

    func decide(_ path: String, claims: [(String, JSON)], reportOnly: Bool = false) throws -> Decision {
        var directives: [(Directive, ConfigValue)] = [
            (
                .require,
                .list([
                    ("/t/{team}/", .string("path.team in claims.teams")), ("/public/", .string("anonymous")),
                    ("/closed/", .string("deny")),
                ])
            ),
            (.claimsSchema, ClaimsSchemaTests.declared),
        ]
        if reportOnly { directives.append((.mode, .string("report-only"))) }
        let configuration = try GateTests.configuration(directives)
        let request = HTTPRequest(method: "GET", path: path, host: "api.example.test", remoteIP: "192.0.2.1") { _ in
            nil
        }
        return try #require(
            Gate.decide(
                request, configuration: configuration, now: Fixtures.tokens.now,
                presented: VerifiedClaims(JSONObject(members: claims))))
    }

    @Test func aTokenWithAClaimOfAnotherTypeIs403ClaimTypeMismatchAndLogged() throws {
        let decision = try decide("/t/red/x", claims: [("sub", .string("alice")), ("teams", .string("red"))])
        #expect(decision.verdict.status == 403 && decision.verdict.reason == .claimTypeMismatch)
        #expect(decision.verdict.wwwAuthenticate == nil)
        #expect(decision.effects.requestHeaders.isEmpty && decision.effects.environment.isEmpty)
        #expect(
            decision.diagnostics.problem == "claim \"teams\" is a string, not an array of strings "
                + "(gatehouse.claims-schema)")
        #expect(
            decision.diagnostics.explanation?.contains { $0.hasPrefix("token refused: claim_type_mismatch") } == true)
        let allowed = try decide("/t/red/x", claims: [("sub", .string("alice")), ("teams", .array([.string("red")]))])
        #expect(allowed.verdict.status == 0 && allowed.diagnostics.problem == nil)
        #expect(allowed.effects.requestHeaders.contains { $0.name == "X-Auth-Subject" && $0.value == "alice" })
    }

    @Test func aVerifiedTokenIsCheckedAsClaimsGivenAre() throws {
        // the fixture token (PyJWT) holds "roles": ["viewer"]
        func decide(_ roles: String) throws -> Decision {
            let configuration = try GateTests.configuration([
                (.require, .list([("/", .string("role:viewer"))])),
                (.claimsSchema, .list([("roles", .string(roles))])),
            ])
            let token = "Bearer " + Fixtures.token(named: "RS256")
            let request = HTTPRequest(method: "GET", path: "/x", host: "api.example.test", remoteIP: "192.0.2.1") {
                $0 == "Authorization" ? token : nil
            }
            return try #require(Gate.decide(request, configuration: configuration, now: Fixtures.tokens.now))
        }
        #expect(try decide("array of strings").verdict.status == 0)
        let refused = try decide("string")
        #expect(refused.verdict.status == 403 && refused.verdict.reason == .claimTypeMismatch)
    }

    @Test func aRuleDecidedWithoutATokenIsNotChangedByIt() throws {
        let claims: [(String, JSON)] = [("sub", .string("alice")), ("level", .string("3"))]
        let open = try decide("/public/x", claims: claims)
        #expect(open.verdict.status == 0 && open.effects.requestHeaders.isEmpty)  // no identity attached
        #expect(open.diagnostics.problem?.hasPrefix("claim \"level\" is a string") == true)
        let closed = try decide("/closed/x", claims: claims)
        #expect(closed.verdict.status == 403 && closed.verdict.reason == .policyDenied)
    }

    @Test func reportOnlyLetsItThroughAndSaysSo() throws {
        let decision = try decide("/t/red/x", claims: [("teams", .string("red"))], reportOnly: true)
        #expect(decision.verdict.status == 0 && decision.diagnostics.wouldRefuse == 403)
        #expect(decision.verdict.reason == .claimTypeMismatch)
    }
}
