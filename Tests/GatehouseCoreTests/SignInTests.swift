import Foundation
import Testing

@testable import GatehouseCore

@Suite("Browser sign-in: return targets, navigations, the ID token of a callback")
struct SignInTests {
    @Test("return targets", arguments: [
        ("/", "/"), ("/private/page?x=1", "/private/page?x=1"), ("/a%20b", "/a%20b"),
        ("//evil.example", "/"), ("/\\evil.example", "/"), ("/\\\tevil", "/"), ("/\tevil", "/"),
        ("https://evil.example", "/"), ("http:/evil.example", "/"), ("evil.example", "/"), ("", "/"),
        ("/%2F%2Fevil.example", "/"), ("/%2fevil.example", "/"), ("/%5Cevil.example", "/"),
        ("/%5cevil.example", "/"), ("/%09/evil.example", "/"), ("/%0d%0a/evil", "/"), ("/%20/evil", "/"),
        ("/%252F/evil.example", "/"), ("/%25252F/evil.example", "/"), ("/ /evil", "/"), ("/\u{7F}/evil", "/"),
        ("/\r\nLocation: //evil", "/"), ("/caf\u{E9}", "/"), ("/x\\y", "/"), ("/x/%2F%2Fok", "/x/%2F%2Fok"),
        (" /x", "/"), ("/x ", "/"),
    ])
    func returnTargets(_ target: String, _ expected: String) {
        #expect(ReturnTarget.sanitized(target) == expected)
    }

    @Test func aRequestBecomesAReturnTargetPercentEncoded() {
        #expect(ReturnTarget.of(path: "/a b/ü", query: "q=1") == "/a%20b/%C3%BC?q=1")
        #expect(ReturnTarget.of(path: "/x", query: "") == "/x")
        #expect(ReturnTarget.of(path: "//evil", query: "") == "/")
    }

    static func request(_ method: String, _ headers: [String: String]) -> HTTPRequest {
        HTTPRequest(method: method, path: "/", host: "site.example", remoteIP: "127.0.0.1") { name in
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
    }

    @Test("navigations", arguments: [
        (["Sec-Fetch-Mode": "navigate"], true),
        (["Accept": "text/html,application/xhtml+xml"], true),
        (["Accept": "text/html", "Sec-Fetch-Mode": "cors"], false),
        (["Accept": "application/json, text/html"], false),
        (["Accept": "*/*"], false),
        ([:], false),
        (["Sec-Fetch-Mode": "navigate", "Authorization": "Bearer x"], false),
        (["Accept": "text/html", "X-Requested-With": "XMLHttpRequest"], false),
    ] as [([String: String], Bool)])
    func navigations(_ headers: [String: String], _ expected: Bool) {
        #expect(SignIn.isNavigation(Self.request("GET", headers)) == expected)
        #expect(!SignIn.isNavigation(Self.request("POST", headers)))
    }

    @Test("same origin", arguments: [
        (["Origin": "https://site.example"], true),
        (["Origin": "http://site.example"], false),
        (["Origin": "https://site.example.evil"], false),
        (["Origin": "null"], false),
        (["Sec-Fetch-Site": "same-origin"], true),
        (["Sec-Fetch-Site": "same-site"], false),
        (["Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"], false),
        ([:], false),
    ] as [([String: String], Bool)])
    func sameOrigin(_ headers: [String: String], _ expected: Bool) {
        #expect(SignIn.sameOrigin(Self.request("POST", headers), scheme: "https") == expected)
    }

    struct IDTokens: Decodable {
        struct Case: Decodable, Sendable, CustomTestStringConvertible {
            let name: String
            let token: String
            let expect: String
            var testDescription: String { name }
        }
        let now: Int64
        let issuer: String
        let client: String
        let nonce: String
        let cases: [Case]
    }

    static let idTokens = try! JSONDecoder().decode(IDTokens.self, from: Fixtures.data("id-tokens.json"))

    static func exchange(configuredIssuer: Bool) throws -> CodeExchange {
        let jwks = try JSONSerialization.jsonObject(with: Fixtures.data("id-tokens.json")) as! [String: Any]
        let keyBytes = try JSONSerialization.data(withJSONObject: jwks["jwks"]!)
        let keys = try KeySet.parse(Array(keyBytes), source: "id-tokens.json")
        let metadata = ProviderMetadata(
            issuer: idTokens.issuer, authorizationEndpoint: "https://idp.example/authorize",
            tokenEndpoint: "https://idp.example/token", endSessionEndpoint: nil)
        return CodeExchange(
            code: "c", login: LoginState(state: "s", nonce: idTokens.nonce, verifier: "v", target: "/", expires: 0),
            redirectURI: "https://site.example/.gatehouse/callback", clientID: idTokens.client,
            settings: SignInSettings { _ in nil }, metadata: metadata, keys: keys,
            requirements: TokenRequirements(
                issuers: configuredIssuer ? [idTokens.issuer] : [], audiences: ["api"], algorithms: [.hs256]),
            sessionKeys: SessionTests.keys(), claimNames: IdentityClaims())
    }

    @Test("the ID token of a callback", arguments: idTokens.cases)
    func idToken(_ fixture: IDTokens.Case) throws {
        for configuredIssuer in [true, false] {
            switch try Self.exchange(configuredIssuer: configuredIssuer).verify(fixture.token, now: Self.idTokens.now) {
            case .success(let claims):
                #expect(fixture.expect == "valid")
                #expect(claims["sub"]?.stringValue == "alice")
            case .failure(let refusal):
                #expect(refusal.message.hasPrefix(fixture.expect), "\(refusal.message)")
            }
        }
    }

    @Test func theSessionKeepsClaimsRulesReadAndDropsTheProtocolOnes() throws {
        let claims = JSONObject(members: [
            ("sub", .string("alice")), ("iss", .string("https://idp.example")), ("aud", .string("web")),
            ("nonce", .string("n")), ("exp", .integer(9)), ("roles", .array([.string("viewer")])),
        ])
        let result = try Self.exchange(configuredIssuer: true).establish(claims: claims, idToken: "a.b.c", now: 100)
        #expect(result.status == 302)
        #expect(result.headers.contains { $0.name == "Location" && $0.value == "/" })
        let cookie = try #require(result.headers.first { $0.value.hasPrefix("__Host-gatehouse=") })
        let value = String(cookie.value.dropFirst("__Host-gatehouse=".count).prefix { $0 != ";" })
        let session = try #require(SessionContents.open(value, keys: SessionTests.keys()))
        #expect(session.claims.members.map(\.key) == ["sub", "iss", "roles"])
        #expect(session.expires == 100 + 8 * 3600 && session.idleDeadline == 100 + 3600)
        #expect(result.headers.contains { $0.value.hasPrefix("__Host-gatehouse-login=;") })
    }

    @Test func aSessionTooLargeForCookiesLeavesOutTheLargestClaimsNotTheIdentity() throws {
        let huge = JSON.string(String(repeating: "x", count: 20_000))
        let claims = JSONObject(members: [
            ("sub", .string("alice")), ("big", huge), ("roles", .array([.string("viewer")])),
        ])
        let result = try Self.exchange(configuredIssuer: true).establish(claims: claims, idToken: "a.b.c", now: 100)
        #expect(result.status == 302)
        #expect(result.log.contains { $0.text.contains("claim big left out") })
        #expect(result.log.contains { $0.text.contains("ID token") })
    }

    @Test("state and nonce compare every byte", arguments: [
        ("abcdefgh", "abcdefgh", true), ("abcdefgh", "abcdefgX", false), ("abcdefgh", "Xbcdefgh", false),
        ("abcdefgh", "abcdefg", false), ("", "", true),
    ])
    func constantTimeEquality(_ a: String, _ b: String, _ equal: Bool) {
        #expect(SignIn.constantTimeEqual(a, b) == equal)
    }

    @Test func formEncodingRoundTrips() {
        let pairs = [("a b", "c&d=e"), ("ü", "+%")]
        let decoded = FormEncoding.decode(FormEncoding.encode(pairs))
        #expect(decoded.map(\.name) == ["a b", "ü"] && decoded.map(\.value) == ["c&d=e", "+%"])
    }

    @Test("provider metadata", arguments: [
        (#"{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a","token_endpoint":"https://idp.example/t"}"#, nil),
        (#"{"issuer":"http://127.0.0.1:8080","authorization_endpoint":"http://127.0.0.1:8080/a","token_endpoint":"http://localhost/t"}"#, nil),
        (#"{"issuer":"https://idp.example","authorization_endpoint":"http://idp.example/a","token_endpoint":"https://idp.example/t"}"#, "\"authorization_endpoint\" must be an https URL"),
        (#"{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a"}"#, "expected \"token_endpoint\""),
        (#"{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a","token_endpoint":"http://127.0.0.1.evil/t"}"#, "\"token_endpoint\" must be an https URL"),
        ("[]", "expected the provider's discovery document"),
    ] as [(String, String?)])
    func metadata(_ text: String, _ problem: String?) {
        do {
            _ = try ProviderMetadata.parse(Array(text.utf8), source: "m")
            #expect(problem == nil)
        } catch {
            #expect(problem.map { error.description.contains($0) } == true, "\(error.description)")
        }
    }
}
