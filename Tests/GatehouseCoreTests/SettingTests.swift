import Testing

@testable import GatehouseCore

@Suite("Compiling gatehouse.* values, with messages that name the directive, the value and what was expected")
struct SettingTests {
    func message(_ directive: Directive, _ value: ConfigValue) -> String {
        do {
            _ = try Setting.compile(directive, value)
            return "compiled"
        } catch {
            return error.description
        }
    }

    @Test func badValuesNameTheDirectiveTheValueAndWhatWasExpected() {
        #expect(
            message(.leeway, .string("soon"))
                == "gatehouse.leeway: expected seconds from 0 to 86400, got \"soon\"")
        #expect(
            message(.issuer, .list([]))
                == "gatehouse.issuer: expected a string or a list of strings (\"https://idp.example/\"), got ()")
        #expect(message(.algorithms, .list([(nil, .string("none"))])).contains("\"none\" is never accepted"))
        #expect(message(.algorithms, .string("RS257")).contains("unknown algorithm \"RS257\""))
        #expect(message(.jwks, .string("/nonexistent/jwks.json")).hasPrefix("gatehouse.jwks: cannot read /nonexistent"))
        let rule = message(.require, .list([("/api/", .string("role:admin andd x"))]))
        #expect(rule.hasPrefix("gatehouse.require: rule \"/api/\" => \"role:admin andd x\": expected 'and', 'or'"))
        #expect(rule.contains("at column 12"))
        #expect(message(.require, .list([(nil, .string("authenticated"))])).contains("\"PATTERN\" => \"EXPRESSION\""))
        #expect(
            message(.headers, .list([("X-A", .string("sub")), ("x_a", .string("email"))]))
                .contains("same name to a CGI backend"))
        #expect(message(.env, .list([("1BAD", .string("sub"))])).contains("not a valid environment variable name"))
        #expect(message(.env, .list([("REMOTE_ADDR", .string("sub"))])).contains("is set by lighttpd itself"))
        #expect(message(.env, .list([("HTTP_X_USER", .string("sub"))])).contains("is set by lighttpd itself"))
        #expect(message(.audience, .list([(nil, .string("*")), (nil, .string("api"))])).contains("\"*\" alone"))
        #expect(message(.rolesClaim, .string("realm_access..roles")).contains("dot path"))
        #expect(message(.tokenSources, .list([(nil, .string("cookies:x"))])).contains("is not a token source"))
        #expect(message(.tokenSources, .string("header:")).contains("is not a token source"))
        #expect(message(.tokenSources, .string("query:access_token")) == "compiled")
    }

    @Test func roleInheritanceIsTransitiveAndRefusesCycles() throws {
        let inheritance = try RoleInheritance([("admin", ["operator"]), ("operator", ["viewer", "auditor"])])
        #expect(inheritance.expand(["admin"]) == ["admin", "operator", "viewer", "auditor"])
        #expect(inheritance.expand(["viewer"]) == ["viewer"])
        #expect(
            message(.roleInherits, .list([("a", .string("b")), ("b", .string("c, a"))]))
                == "gatehouse.role-inherits: \"a\" implies itself (a => b => a)")
        #expect(message(.roleInherits, .list([("a", .string("b,,c"))])).contains("role names separated by commas"))
        #expect(
            message(.mode, .string("audit")) == "gatehouse.mode: expected \"enforce\" or \"report-only\", got \"audit\""
        )
    }

    @Test func anyAudienceCompilesWithAWarning() throws {
        let setting = try Setting.compile(.audience, .string("*"))
        #expect(setting.warnings.count == 1)
    }

    @Test func integersFromEnvironmentVariablesArriveAsStrings() throws {
        guard case .seconds(30) = try Setting.compile(.leeway, .string("30")).value else {
            Issue.record("expected 30 seconds")
            return
        }
    }

    @Test func contextsThatNeedATokenNeedKeysIssuerAndAudience() throws {
        var configuration = Configuration()
        configuration[.require] = try Setting.compile(.require, .list([("/", .string("authenticated"))]))
        let problems = configuration.problems()
        #expect(problems.count == 3)
        #expect(problems.allSatisfy { $0.hasPrefix("gatehouse.require has rules that need a token") })
        var secretOnly = configuration
        secretOnly[.issuer] = try Setting.compile(.issuer, .string("https://idp.example.test/"))
        secretOnly[.audience] = try Setting.compile(.audience, .string("api"))
        #expect(secretOnly.problems().count == 1 && secretOnly.problems()[0].contains("no keys are set"))

        var anonymousOnly = Configuration()
        anonymousOnly[.require] = try Setting.compile(.require, .list([("/", .string("anonymous"))]))
        anonymousOnly[.defaultRule] = try Setting.compile(.defaultRule, .string("deny"))
        #expect(anonymousOnly.problems().isEmpty)
    }

    @Test func keysMustFitTheAllowedAlgorithms() throws {
        var configuration = try GateTests.configuration([
            (.require, .list([("/", .string("authenticated"))])),
            (.algorithms, .list([(nil, .string("HS384"))])),
        ])
        #expect(configuration.problems().isEmpty)  // the oct key is 64 bytes
        configuration[.jwks] = try Setting.compile(.jwks, .string(Fixtures.path("rsa-public.pem")))
        #expect(
            configuration.problems() == [
                "gatehouse.algorithms allows HS384, but no HMAC secret of at least 48 bytes is configured "
                    + "(gatehouse.hmac-secret-file, or an \"oct\" key in gatehouse.jwks)",
                "no key of gatehouse.jwks or gatehouse.hmac-secret-file fits any algorithm of "
                    + "gatehouse.algorithms (HS384)",
            ])
        configuration[.algorithms] = try Setting.compile(.algorithms, .list([(nil, .string("RS256"))]))
        #expect(configuration.problems().isEmpty)
    }

    @Test func everyDirectiveHasTheNumberOfTheCHeader() {
        #expect(Directive.allCases.count == Directive.count)
        for directive in Directive.allCases {
            #expect(Directive(id: directive.id) == directive)
            #expect(Directive(name: directive.name) == directive)
        }
    }
}
