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
        #expect(message(.tokenSources, .string("cookie:a=b")).contains("is not a token source"))
        #expect(message(.tokenSources, .string("query:a=b")).contains("is not a token source"))
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
        guard try Setting.compile(.leeway, .string("30")).value as? Int64 == 30 else {
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
        #expect(Directive.registryMatchesHeader)
        #expect(Directive.allCases.count == Directive.count)
        for directive in Directive.allCases {
            #expect(Directive.withID(directive.id) == directive)
            #expect(Directive.named(directive.name) == directive)
            #expect(directive.name.hasPrefix("gatehouse."))
        }
        #expect(Directive.withID(Directive.count) == nil)
        #expect(
            Directive.allCases.filter(\.isServerWide) == [
                .cacheSize, .signInWorkers, .signInTimeout, .verifyThreads, .verifyQueue,
            ])
    }

    @Test func aServerWideDirectiveIsRefusedInsideACondition() throws {
        #expect(message(.cacheSize, .integer(5)) == "compiled")
        #expect(throws: ConfigError.self) { try Setting.compile(.cacheSize, .integer(5), inCondition: true) }
        _ = try Setting.compile(.leeway, .integer(5), inCondition: true)
    }

    @Test func settingAndUnsettingFillsAndRestoresTheField() throws {
        var configuration = Configuration()
        configuration[.leeway] = try Setting.compile(.leeway, .integer(5))
        configuration[.stripHeaders] = try Setting.compile(.stripHeaders, .string("X-Extra"))
        #expect(configuration.tokenRequirements.leeway == 5)
        #expect(configuration.strippedHeaders == ["X-Auth-Subject", "X-Extra"])
        configuration[.leeway] = nil
        configuration[.stripHeaders] = nil
        #expect(configuration.tokenRequirements.leeway == Configuration().tokenRequirements.leeway)
        #expect(configuration.strippedHeaders == ["X-Auth-Subject"])
    }
}

@Suite("Configuration that should not start, and settings a client could choose")
struct ConfigurationHardeningTests {
    func message(_ directive: Directive, _ value: ConfigValue) -> String {
        SettingTests().message(directive, value)
    }

    func headers(_ name: String) -> ConfigValue {
        .list([("X-Auth-Subject", .string("sub")), (name, .string("email"))])
    }
    func env(_ name: String) -> ConfigValue { .list([("REMOTE_USER", .string("sub")), (name, .string("email"))]) }

    @Test(arguments: [
        "Authorization", "Proxy-Authorization", "Cookie", "Host", "Content-Length", "content_length", "Content-Type",
        "Content-Encoding", "Transfer-Encoding", "TE", "Trailer", "Connection", "Keep-Alive", "Proxy-Connection",
        "Upgrade", "Expect", "HTTP2-Settings",
    ])
    func identityHeadersThatCarryTheRequestItselfAreRefused(name: String) {
        #expect(
            message(.headers, headers(name))
                == "gatehouse.headers: \"\(name)\" carries the request itself (its framing, connection, credentials, "
                + "host or body type), so a claim must never stand in for it; choose a name of your own, like "
                + "\"X-Auth-\(name)\"")
    }

    @Test func ownHeaderNamesCompile() {
        #expect(message(.headers, headers("X-Auth-Email")) == "compiled")
        #expect(message(.headers, headers("X-Content-Type")) == "compiled")
    }

    @Test(arguments: [
        "LD_PRELOAD", "LD_AUDIT", "DYLD_INSERT_LIBRARIES", "PATH", "IFS", "HOME", "SHELL", "ENV", "BASH_ENV",
        "BASH_FUNC_X%%", "PS4", "LC_ALL", "TZ", "TMPDIR", "PHP_VALUE", "PHPRC", "PYTHONPATH", "PERL5OPT", "RUBYOPT",
        "NODE_OPTIONS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "GCONV_PATH", "HTTPS_PROXY", "GIT_DIR",
    ])
    func environmentThatChangesHowProgramsRunIsRefused(name: String) {
        let text = message(.env, env(name))
        if name.contains("%") {
            #expect(text.contains("is not a valid environment variable name"))
        } else {
            #expect(
                text == "gatehouse.env: \"\(name)\" changes how the backend's programs run (read by the loader, a "
                    + "shell, the C library or an interpreter), so a claim must never set it; choose a name of your "
                    + "own, like \"AUTH_\(name)\"")
        }
    }

    @Test func environmentNamesAreUpperCaseAndNotLighttpds() {
        #expect(message(.env, env("auth_email")).contains("\"auth_email\" is not a valid environment variable name"))
        #expect(message(.env, env("Auth_Email")).contains("expected upper-case letters, digits and \"_\""))
        #expect(message(.env, env("HTTP_X_USER")).contains("is set by lighttpd itself"))
        #expect(message(.env, env("SSL_CLIENT_S_DN")).contains("is set by lighttpd itself"))
        #expect(message(.env, env("AUTH_EMAIL")) == "compiled")
        #expect(message(.env, env("GATEHOUSE_ROLES")) == "compiled")
    }

    @Test func aTokenSourceListedTwiceIsRefused() {
        func sources(_ a: String, _ b: String) -> String {
            message(.tokenSources, .list([(nil, .string(a)), (nil, .string(b))]))
        }
        for (a, b) in [
            ("header:X-Access-Token", "header:X-Access-Token"), ("header:X-Access-Token", "header:x_access_token"),
            ("header:X-Access-Token", "header:X.Access.Token"), ("header:Authorization", "header:AUTHORIZATION"),
            ("cookie:session", "cookie:Session"), ("query:access_token", "query:Access_Token"),
        ] {
            #expect(
                sources(a, b)
                    == "gatehouse.token-sources: \"\(a)\" and \"\(b)\" read the same place (names compare in any "
                    + "letter case, header names as a CGI backend sees them); list each source once")
        }
        #expect(sources("cookie:session", "query:session") == "compiled")
        #expect(sources("header:X-Token", "header:X-Token2") == "compiled")
    }

    @Test func theStatusURLIsAPathOfItsOwn() {
        for path in ["/", "status", "", "/a//b", "/a/./b", "/a/..", "/s%74atus", "/status?x", "/sta tus"] {
            #expect(
                message(.statusURL, .string(path))
                    == "gatehouse.status-url: expected a path of its own such as \"/gatehouse-status\" (not \"/\"; "
                    + "no \"//\", \".\" or \"..\" segments, %-escapes or \"?\"), got \"\(path)\"")
        }
        #expect(message(.statusURL, .string("/gatehouse-status")) == "compiled")
        #expect(message(.statusURL, .string("/ops/gatehouse/")) == "compiled")
    }

    @Test func theAuditLogFolderMustExist() {
        #expect(
            message(.auditLog, .string("/nonexistent-gatehouse/audit.log"))
                == "gatehouse.audit-log: the folder \"/nonexistent-gatehouse\" of \"/nonexistent-gatehouse/audit.log\" "
                + "does not exist (expected a file in an existing folder, or \"|command\" to pipe the lines to "
                + "a program)")
        let file = Fixtures.path("rsa-public.pem")
        #expect(message(.auditLog, .string(file + "/audit.log")).contains("does not exist"))  // a file, not a folder
        #expect(message(.auditLog, .string("/tmp/audit.log")) == "compiled")
        #expect(message(.auditLog, .string("/audit.log")) == "compiled")
        #expect(message(.auditLog, .string("|/nonexistent-gatehouse/logger")) == "compiled")
    }

    @Test func negativeNumbersAreNumbersThatWrappedAroundInLighttpd() {
        #expect(
            message(.leeway, .integer(-2_147_483_648))
                == "gatehouse.leeway: -2147483648 is out of range: lighttpd keeps numbers in 32 bits, so one over "
                + "2147483647 wraps around to a negative number (expected seconds from 0 to 86400)")
        #expect(message(.cacheSize, .integer(-1)).hasPrefix("gatehouse.cache-size: -1 is out of range"))
        #expect(message(.maxTokenAge, .integer(-5)).hasPrefix("gatehouse.max-token-age: -5 is out of range"))
        #expect(message(.leeway, .integer(86_401)) == "gatehouse.leeway: expected seconds from 0 to 86400, got 86401")
    }

    @Test func theVerifyThreadsAndTheirQueue() {
        #expect(message(.verifyThreads, .integer(0)) == "compiled")
        #expect(message(.verifyThreads, .integer(64)) == "compiled")
        #expect(
            message(.verifyThreads, .integer(65))
                == "gatehouse.verify-threads: expected a number of threads from 0 (verify on the event loop) to 64, "
                + "got 65")
        #expect(message(.verifyQueue, .integer(1)) == "compiled")
        #expect(
            message(.verifyQueue, .integer(0))
                == "gatehouse.verify-queue: expected a number of tokens from 1 to 65536, got 0")
        #expect(Configuration().verifyThreads == nil && Configuration().verifyQueue == 256)
        #expect((0...4).contains(SignatureJobs.defaultThreads))
        // The affinity mask is read (this test may run pinned to fewer CPUs than the machine has).
        let allowed = SignatureJobs.allowedCPUs()
        #expect(allowed.map { (1...4096).contains($0) } == true)
        #expect(SignatureJobs.defaultThreads == (allowed! > 1 ? min(4, allowed!) : 0))
    }

    @Test func keysInAnotherLetterCaseOrMisspeltNameTheDirectiveMeant() {
        #expect(Directive.problem(withKey: "gatehouse.require") == nil)
        #expect(
            Directive.problem(withKey: "Gatehouse.Require")
                == "unknown directive Gatehouse.Require: did you mean gatehouse.require? "
                + "(directives are written in lower case)")
        #expect(
            Directive.problem(withKey: "Gatehouse.Requires")
                == "unknown directive Gatehouse.Requires: did you mean gatehouse.require?")
        #expect(
            Directive.problem(withKey: "gatehouse.statusurl")
                == "unknown directive gatehouse.statusurl: did you mean gatehouse.status-url?")
        #expect(
            Directive.problem(withKey: "gatehouse.something")?.hasPrefix(
                "unknown directive gatehouse.something (expected one of gatehouse.issuer, ") == true)
    }

    @Test func decidingSettingsUnderConditionsTheClientDecidesAloneAreWarnedAbout() {
        let warning = ClientChosenCondition.warning(.mode, condition: "$HTTP[\"host\"] == \"new.example.com\"")
        #expect(
            warning == "gatehouse.mode is set under $HTTP[\"host\"] == \"new.example.com\", which the client decides "
                + "alone (by the Host header): any client can pick this value or the one outside the block for "
                + "whatever the request reaches. Set it where the client has no say ($HTTP[\"url\"], "
                + "$HTTP[\"remoteip\"], $SERVER[\"socket\"], or the whole server), or make sure what this block "
                + "guards is reached through this block alone")
        for (condition, input) in [
            ("$HTTP[\"referer\"] =~ \"x\"", "the Referer header"),
            ("$HTTP[\"useragent\"] =~ \"x\"", "the User-Agent header"),
            ("$HTTP[\"user-agent\"] =~ \"x\"", "the User-Agent header"),
            ("$HTTP[\"cookie\"] =~ \"x\"", "the Cookie header"),
            ("$HTTP[\"language\"] =~ \"x\"", "the Accept-Language header"),
            ("$REQUEST_HEADER[\"X-Beta\"] == \"1\"", "the X-Beta header"),
            ("$HTTP[\"querystring\"] =~ \"x\"", "the query string"),
            ("$HTTP[\"query-string\"] =~ \"x\"", "the query string"),
            ("$HTTP[\"request-method\"] == \"GET\"", "the request method"),
        ] {
            for directive in [Directive.require, .defaultRule, .mode, .corsPreflight, .claimsSchema] {
                #expect(
                    ClientChosenCondition.warning(directive, condition: condition)?.contains("(by \(input))") == true)
            }
        }
        for condition in [
            "$HTTP[\"url\"] =^ \"/beta/\"", "$HTTP[\"remoteip\"] == \"10.0.0.0/8\"", "$HTTP[\"scheme\"] == \"https\"",
            "$SERVER[\"socket\"] == \":443\"", "$HTTP[\"hostname\"] == \"x\"",
        ] {
            #expect(ClientChosenCondition.warning(.mode, condition: condition) == nil)
        }
        let deciding: [Directive] = [.require, .defaultRule, .mode, .corsPreflight, .claimsSchema]
        for directive in Directive.allCases where !deciding.contains(directive) {
            #expect(ClientChosenCondition.warning(directive, condition: "$HTTP[\"host\"] == \"x\"") == nil)
        }
    }
}
