import Foundation
import Testing

@testable import GatehouseCore

/// What is decided before and around the rules: paths backends read differently, token
/// headers CGI reads as one, CORS preflights, the path a rewrite started from, folded case.
@Suite("Enforcement around the rules")
struct EnforcementTests {
    static let rules: ConfigValue = .list([
        ("/", .string("anonymous")), ("/admin/", .string("role:admin")), ("/internal/", .string("deny")),
    ])

    static func configuration(_ extra: [(Directive, ConfigValue)] = []) throws -> Configuration {
        try GateTests.configuration([(.require, rules)] + extra)
    }

    static let preflight: ConfigValue = .list([
        ("origins", .string("https://app.example.test https://ops.example.test")), ("methods", .string("GET, POST")),
        ("max-age", .integer(60)), ("credentials", .string("enable")),
    ])

    func decide(
        _ path: String, method: String = "GET", originalPath: String? = nil, lowercase: Bool = false,
        headers: [String: String] = [:], counts: [String: Int] = [:], configuration: Configuration? = nil
    ) throws -> Decision {
        let request = HTTPRequest(
            method: method, path: path, originalPath: originalPath, host: "h", remoteIP: "192.0.2.1",
            lowercasePaths: lowercase, header: { headers[$0] },
            headerCount: { counts[$0] ?? (headers[$0] == nil ? 0 : 1) })
        return try #require(
            Gate.decide(
                request, configuration: configuration ?? EnforcementTests.configuration(),
                now: Fixtures.tokens.now))
    }

    @Test func rulesMatchThePathsBytesNotAReplacementCharacter() throws {
        // "/x/\u{FFFD}" is what a lossy decoding of the bytes "/x/\xFF" reads: rules must see the bytes.
        let configuration = try GateTests.configuration([
            (.require, .list([("/", .string("anonymous")), ("/x/\u{FFFD}", .string("deny"))]))
        ])
        let bytes: [UInt8] = [0x2F, 0x78, 0x2F, 0xFF]
        let request = HTTPRequest(
            method: "GET", pathBytes: bytes, originalPathBytes: nil, host: "h", remoteIP: "192.0.2.1", query: "",
            lowercasePaths: false, readHeader: { _, _ in false }, headerCount: nil)
        let decision = try #require(Gate.decide(request, configuration: configuration, now: Fixtures.tokens.now))
        #expect(decision.verdict.status == 0 && decision.verdict.rule == "/")
        #expect(request.path == "/x/\u{FFFD}")
        let replaced = try decide("/x/\u{FFFD}", configuration: configuration)
        #expect(replaced.verdict.status == 403)
    }

    @Test(arguments: [
        "/public/..;/admin/x", "/t/acme/..;/globex/d", "/a;jsessionid=1", "/x/%2e%2e/admin", "/x\\..\\admin",
        "/x/\u{1}y", "/x/\u{7F}",
    ])
    func pathsBackendsReadAsAnotherAreRefused(path: String) throws {
        let decision = try decide(path)
        #expect(decision.verdict.status == 400 && decision.verdict.reason == .unsafePath)
        #expect(try decide("/", originalPath: path).verdict.status == 400)
    }

    @Test func eachPathCheckCanBeTurnedOff() throws {
        let relaxed = try EnforcementTests.configuration([
            (.pathChecks, .list([(nil, .string("backslash")), (nil, .string("double-encoding"))]))
        ])
        #expect(try decide("/a;jsessionid=1", configuration: relaxed).verdict.status == 0)
        #expect(try decide("/x/%2e", configuration: relaxed).verdict.status == 400)
        let none = try EnforcementTests.configuration([(.pathChecks, .string("none"))])
        #expect(try decide("/x\\%2e;\u{1}", configuration: none).verdict.status == 0)
        #expect(throws: ConfigError.self) { try Setting.compile(.pathChecks, .string("semicolons")) }
    }

    @Test func twoHeadersThatCGIReadsAsTheTokenHeaderAreRefused() throws {
        let sources = try EnforcementTests.configuration([(.tokenSources, .string("header:X-Access-Token"))])
        let decision = try decide("/", counts: ["X-Access-Token": 2], configuration: sources)
        #expect(decision.verdict.status == 400 && decision.verdict.reason == .ambiguousHeader)
        let one = try decide("/", counts: ["X-Access-Token": 1], configuration: sources)
        #expect(one.verdict.status == 0 && one.effects.stripAliases == ["X-Access-Token"])
        #expect(try decide("/", counts: ["Authorization": 2]).verdict.status == 400)
    }

    @Test func aRewrittenRequestIsDecidedOnThePathTheClientAskedForToo() throws {
        // served as an anonymous path, asked for as an admin's: refused
        let decision = try decide("/index.php", originalPath: "/admin/delete-user")
        #expect(decision.verdict.status == 401 && decision.verdict.rule == "/admin/")
        // asked for as an anonymous path, served as a denied one: refused
        #expect(try decide("/internal/x", originalPath: "/public").verdict.status == 403)
        #expect(try decide("/index.php", originalPath: "/hello").verdict.status == 0)
    }

    @Test func rulesFoldCaseWhereLighttpdFoldsPaths() throws {
        #expect(try decide("/ADMIN/x", lowercase: true).verdict.status == 401)
        #expect(try decide("/Internal/x", lowercase: true).verdict.status == 403)
        #expect(try decide("/ADMIN/x").verdict.status == 0)  // (a server that does not fold serves another file)
    }

    func preflight(
        _ path: String, origin: String = "https://app.example.test", method: String = "POST"
    )
        throws -> Decision
    {
        try decide(
            path, method: "OPTIONS", headers: ["Origin": origin, "Access-Control-Request-Method": method],
            configuration: EnforcementTests.configuration([(.corsPreflight, EnforcementTests.preflight)]))
    }

    @Test func aPreflightIsAnsweredWithTheConfiguredHeaders() throws {
        let decision = try preflight("/admin/x", origin: "https://ops.example.test")
        #expect(decision.verdict.status == 204 && decision.effects.requestHeaders.isEmpty && decision.verdict.allowed)
        let fields = Dictionary(uniqueKeysWithValues: decision.effects.responseHeaders.map { ($0.name, $0.value) })
        #expect(fields["Access-Control-Allow-Origin"] == "https://ops.example.test")
        #expect(fields["Access-Control-Allow-Methods"] == "GET, POST")
        #expect(fields["Access-Control-Allow-Headers"] == "Authorization, Content-Type")
        #expect(fields["Access-Control-Max-Age"] == "60" && fields["Access-Control-Allow-Credentials"] == "true")
        #expect(fields["Vary"] == "Origin")
    }

    @Test func aPreflightIsRefusedOnDenyPathsAndForOtherOriginsOrMethods() throws {
        #expect(try preflight("/internal/x").verdict.status == 403)
        #expect(try preflight("/admin/x", origin: "https://evil.example").verdict.status == 403)
        #expect(try preflight("/admin/x", method: "DELETE").verdict.reason == .preflightRefused)
        // without the directive, a preflight is a request like any other
        let plain = try decide(
            "/admin/x", method: "OPTIONS", headers: ["Origin": "o", "Access-Control-Request-Method": "GET"])
        #expect(plain.verdict.status == 401)
    }

    @Test(arguments: [
        ConfigValue.string("allow"), .list([("origins", .string("*")), ("credentials", .string("enable"))]),
        .list([("origins", .string("app.example.test"))]), .list([("methods", .string("GET"))]),
        .list([("origins", .string("https://a.example")), ("max-age", .integer(-1))]),
    ])
    func badPreflightSettingsAreRefused(value: ConfigValue) {
        #expect(throws: ConfigError.self) { try Setting.compile(.corsPreflight, value) }
    }

    @Test func aReloadedConfigurationKeepsTheLastGoodKeysOfARefusedFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Fixtures.data("jwks.json").write(to: URL(fileURLWithPath: file))
        let first = try Setting.compile(.jwks, .string(file))
        #expect(first.warnings.isEmpty)
        try Data("{\"keys\": []}".utf8).write(to: URL(fileURLWithPath: file))
        // (lighttpd's graceful restart compiles the configuration again in the same process)
        let again = try Setting.compile(.jwks, .string(file))
        #expect(again.warnings.first?.contains("still serving the last good keys of this file") == true)
        guard let source = again.value as? KeySource else {
            Issue.record("not a key setting")
            return
        }
        #expect(!source.keys.keys.isEmpty)
        // a file this process never loaded well is refused
        let never = file + ".other"
        try Data("{\"keys\": []}".utf8).write(to: URL(fileURLWithPath: never))
        defer { try? FileManager.default.removeItem(atPath: never) }
        #expect(throws: ConfigError.self) { try Setting.compile(.jwks, .string(never)) }
    }
}
