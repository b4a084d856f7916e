import Foundation
import Testing

@testable import GatehouseCore

@Suite("Browser sign-in: return targets, navigations, the ID token of a callback")
struct SignInTests {
    @Test(
        "return targets",
        arguments: [
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

    @Test(
        "navigations",
        arguments: [
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

    @Test(
        "same origin",
        arguments: [
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
            redirectURI: "https://site.example/.gatehouse/callback",
            client: ProviderClient(
                clientID: idTokens.client, settings: SignInSettings(), metadata: metadata, keys: keys,
                requirements: TokenRequirements(
                    issuers: configuredIssuer ? [idTokens.issuer] : [], audiences: ["api"], algorithms: [.hs256]),
                sessionKeys: SessionTests.keys(), claimPaths: ClaimPaths()))
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
        let result = try Self.exchange(configuredIssuer: true).establish(
            claims: claims, idToken: "a.b.c", refreshToken: nil, now: 100)
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
        let result = try Self.exchange(configuredIssuer: true).establish(
            claims: claims, idToken: "a.b.c", refreshToken: nil, now: 100)
        #expect(result.status == 302)
        #expect(result.log.contains { $0.text.contains("claim big left out") })
        #expect(result.log.contains { $0.text.contains("ID token") })
    }

    @Test func aSessionKeepsTheRefreshTokenUntilAMinuteBeforeTheIDTokenExpires() throws {
        let claims = JSONObject(members: [("sub", .string("alice")), ("exp", .integer(100 + 3600))])
        let result = try Self.exchange(configuredIssuer: true).establish(
            claims: claims, idToken: "a.b.c", refreshToken: "rt", now: 100)
        let cookie = try #require(result.headers.first { $0.value.hasPrefix("__Host-gatehouse=") })
        let value = String(cookie.value.dropFirst("__Host-gatehouse=".count).prefix { $0 != ";" })
        let session = try #require(SessionContents.open(value, keys: SessionTests.keys()))
        #expect(session.refreshToken == "rt" && session.refreshAt == 100 + 3600 - 60)
        #expect(!session.refreshDue(now: 100 + 3600 - 61) && session.refreshDue(now: 100 + 3600 - 60))
    }

    @Test(
        "when a session refreshes",
        arguments: [
            // (token expires, window, session ends) at now = 1000 -> refresh at
            (1000 + 3600, 60, 1000 + 8 * 3600, 1000 + 3600 - 60 as Int64?),
            (1000 + 100, 60, 1000 + 8 * 3600, 1000 + 50),  // never sooner than halfway
            (1000 + 3600, 0, 1000 + 8 * 3600, nil),  // gatehouse.refresh-before = 0
            (1000 + 3600, 60, 1000 + 3000, nil),  // the session ends first
            (900, 60, 1000 + 3000, 1000),  // expired already: at once
        ] as [(Int64, Int64, Int64, Int64?)])
    func refreshTime(_ tokenExpires: Int64, _ window: Int64, _ sessionEnds: Int64, _ expected: Int64?) {
        #expect(
            SessionContents.refreshTime(tokenExpires: tokenExpires, now: 1000, window: window, sessionEnds: sessionEnds)
                == expected)
    }

    @Test func aSessionTooLargeLeavesOutTheRefreshTokenBeforeAnyClaim() throws {
        var session = SessionContents(
            claims: JSONObject(members: [("sub", .string("alice")), ("email", .string("a@example.org"))]),
            expires: 200, idleDeadline: 150, idToken: String(repeating: "i", count: 9000),
            refreshToken: String(repeating: "r", count: 15_000), refreshAt: 120)
        var log = [(error: Bool, text: String)]()
        let fields = try session.sealToFit(keys: SessionTests.keys(), maxAge: 100, essential: ["sub"], log: &log).get()
        #expect(fields.count == Cookies.maximumChunks)
        #expect(session.idToken == nil && session.refreshToken == nil && session.refreshAt == nil)
        #expect(session.claims["email"] != nil)
        #expect(log.map(\.text).contains { $0.contains("refresh token") })
    }

    @Test(
        "a refreshed ID token names the session's identity",
        arguments: [
            (["iss": "https://idp", "sub": "alice"], nil as String?),
            (["iss": "https://idp", "sub": "mallory"], "sub"),
            (["iss": "https://other", "sub": "alice"], "iss"),
            (["iss": "https://idp"], "sub"),
            (["iss": "https://idp", "sub": "alicE"], "sub"),
        ])
    func changedIdentity(_ refreshed: [String: String], _ changed: String?) {
        let old = JSONObject(members: [("iss", .string("https://idp")), ("sub", .string("alice"))])
        let new = JSONObject(members: refreshed.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })
        #expect(SessionRefresh.changedIdentity(from: old, to: new) == changed)
    }

    @Test(
        "state and nonce compare every byte",
        arguments: [
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

    @Test(
        "provider metadata",
        arguments: [
            (
                #"{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a","token_endpoint":"https://idp.example/t"}"#,
                nil
            ),
            (
                #"{"issuer":"http://127.0.0.1:8080","authorization_endpoint":"http://127.0.0.1:8080/a","token_endpoint":"http://localhost/t"}"#,
                nil
            ),
            (
                #"{"issuer":"https://idp.example","authorization_endpoint":"http://idp.example/a","token_endpoint":"https://idp.example/t"}"#,
                "\"authorization_endpoint\" must be an https URL"
            ),
            (
                #"{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a"}"#,
                "expected \"token_endpoint\""
            ),
            (
                #"{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a","token_endpoint":"http://127.0.0.1.evil/t"}"#,
                "\"token_endpoint\" must be an https URL"
            ),
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

@Suite("Sign-in around a decision: sessions, idle deadline, callbacks, logout")
struct SignInStepTests {
    static let folder: String = {
        let path = NSTemporaryDirectory() + "gatehouse-sign-in-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let key = Data(SessionTests.keys().keys[0]).base64EncodedString()
        FileManager.default.createFile(atPath: path + "/keys", contents: Data((key + "\n").utf8))
        let metadata =
            #"{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/auth","#
            + #""token_endpoint":"https://idp.example/token","end_session_endpoint":"https://idp.example/logout"}"#
        FileManager.default.createFile(atPath: path + "/provider.json", contents: Data(metadata.utf8))
        return path
    }()

    static func configuration() throws -> Configuration {
        var configuration = Configuration()
        configuration[.login] = try Setting.compile(.login, .string("enable"))
        configuration[.clientID] = try Setting.compile(.clientID, .string("web"))
        configuration[.tokenEndpointAuth] = try Setting.compile(.tokenEndpointAuth, .string("none"))
        configuration[.sessionKeyFile] = try Setting.compile(.sessionKeyFile, .string(folder + "/keys"))
        configuration[.providerMetadata] = try Setting.compile(.providerMetadata, .string(folder + "/provider.json"))
        configuration[.require] = try Setting.compile(.require, .list([("/", .string("authenticated"))]))
        #expect(configuration.signIn.problems().isEmpty)
        return configuration
    }

    static func request(
        _ method: String = "GET", _ path: String = "/app", query: String = "", cookie: String?,
        headers: [String: String] = [:]
    ) -> HTTPRequest {
        var all = headers
        if let cookie { all["Cookie"] = cookie }
        return HTTPRequest(method: method, path: path, host: "site.example", remoteIP: "127.0.0.1", query: query) {
            name in all.first { $0.key.lowercased() == name.lowercased() }?.value
        }
    }

    static func session(idleIn seconds: Int64, now: Int64) -> String {
        let contents = SessionContents(
            claims: JSONObject(members: [("sub", .string("alice"))]), expires: now + 8 * 3600,
            idleDeadline: now + seconds, idToken: "h.p.s")
        return "__Host-gatehouse=" + contents.seal(keys: SessionTests.keys())!
    }

    static func step(_ request: HTTPRequest, now: Int64 = 1_000_000) throws -> SignIn.Step {
        var memory = SignInMemory()
        return SignIn.before(
            request, scheme: "https", configuration: try configuration(), now: now, memory: &memory)
    }

    @Test func aSessionDecidesAndItsIdleDeadlineSlidesAtMostOnceAMinute() throws {
        let now: Int64 = 1_000_000
        guard
            case .session(let claims, let headers) = try Self.step(
                Self.request(cookie: Self.session(idleIn: 3600 - 30, now: now)))
        else {
            Issue.record("no session")
            return
        }
        #expect(claims.claims["sub"]?.stringValue == "alice" && headers.isEmpty)
        guard
            case .session(_, let resealed) = try Self.step(
                Self.request(cookie: Self.session(idleIn: 3600 - 61, now: now)))
        else {
            Issue.record("no session")
            return
        }
        let value = String(try #require(resealed.first).value.dropFirst("__Host-gatehouse=".count).prefix { $0 != ";" })
        #expect(SessionContents.open(value, keys: SessionTests.keys())?.idleDeadline == now + 3600)
    }

    @Test func aSessionSeenAgainKeepsItsDerivedIdentity() throws {
        let now: Int64 = 1_000_000
        let configuration = try Self.configuration()
        let request = Self.request(cookie: Self.session(idleIn: 3600 - 30, now: now))
        var memory = SignInMemory()
        guard
            case .session(let first, _) = SignIn.before(
                request, scheme: "https", configuration: configuration, now: now, memory: &memory),
            case .session(let again, _) = SignIn.before(
                request, scheme: "https", configuration: configuration, now: now + 1, memory: &memory)
        else {
            Issue.record("no session")
            return
        }
        #expect(first === again)
        let identity = first.derived(under: configuration.identitySettings)
        #expect(again.derived(under: configuration.identitySettings) === identity)
        #expect(identity.identity.subject == "alice")
    }

    @Test func aRequestWithTheCookieARefreshReplacedDecidesWithTheRefreshedClaims() throws {
        let now: Int64 = 1_000_000
        let configuration = try Self.configuration()
        let old = SessionContents(
            claims: JSONObject(members: [("sub", .string("alice")), ("roles", .array([.string("viewer")]))]),
            expires: now + 8 * 3600, idleDeadline: now + 3600 - 30, idToken: nil, refreshToken: "rt-1",
            refreshAt: now - 1)
        let request = Self.request(cookie: "__Host-gatehouse=" + old.seal(keys: SessionTests.keys())!)
        var fresh = old
        fresh.claims = JSONObject(members: [("sub", .string("alice")), ("roles", .array([.string("operator")]))])
        var memory = SignInMemory()
        memory.refreshed.set((.refreshed(fresh, [("Set-Cookie", "x")]), now + 30), for: "rt-1")
        guard
            case .session(let verified, let headers) = SignIn.before(
                request, scheme: "https", configuration: configuration, now: now, memory: &memory)
        else {
            Issue.record("no session")
            return
        }
        #expect(headers.map(\.value) == ["x"])
        #expect(verified.claims["roles"]?.serialized == #"["operator"]"#)
        let roles = verified.derived(under: configuration.identitySettings).identity.roles
        #expect(roles == ["operator"])
    }

    @Test func anIdleSessionIsNone() throws {
        guard case .none = try Self.step(Self.request(cookie: Self.session(idleIn: 0, now: 1_000_000))) else {
            Issue.record("an idle session counted")
            return
        }
    }

    @Test func aStateChangingRequestWithTheSessionAloneMustComeFromThisOrigin() throws {
        let cookie = Self.session(idleIn: 3000, now: 1_000_000)
        guard case .answer(let refusal) = try Self.step(Self.request("POST", cookie: cookie)) else {
            Issue.record("not refused")
            return
        }
        #expect(refusal.status == 403)
        guard
            case .session = try Self.step(
                Self.request("POST", cookie: cookie, headers: ["Origin": "https://site.example"]))
        else {
            Issue.record("refused from this origin")
            return
        }
    }

    @Test(
        "callbacks refused on the loop",
        arguments: [
            ("", nil, 400), ("code=c&state=s", nil, 400), ("code=c&state=wrong", "login", 400),
            ("error=access_denied&state=s", "login", 403), ("state=s", "login", 400),
        ] as [(String, String?, Int)])
    func callbacks(_ query: String, _ cookie: String?, _ status: Int) throws {
        let login = LoginState(state: "s", nonce: "n", verifier: "v", target: "/app", expires: 2_000_000)
        let sealed = try #require(login.seal(keys: SessionTests.keys()))
        let request = Self.request(
            "GET", "/.gatehouse/callback", query: query, cookie: cookie.map { _ in "__Host-gatehouse-login=" + sealed })
        guard case .answer(let result) = try Self.step(request) else {
            Issue.record("not answered")
            return
        }
        #expect(result.status == status)
        #expect(result.headers.contains { $0.value.hasPrefix("__Host-gatehouse-login=;") })
    }

    @Test func aGoodCallbackIsAJobAndItsStateIsUsedOnce() throws {
        let login = LoginState(state: "s", nonce: "n", verifier: "v", target: "/app", expires: 2_000_000)
        let cookie = "__Host-gatehouse-login=" + (try #require(login.seal(keys: SessionTests.keys())))
        var memory = SignInMemory()
        let request = Self.request("GET", "/.gatehouse/callback", query: "code=c&state=s", cookie: cookie)
        let configuration = try Self.configuration()
        guard
            case .submit = SignIn.before(
                request, scheme: "https", configuration: configuration, now: 1_000_000,
                memory: &memory)
        else {
            Issue.record("no job")
            return
        }
        guard
            case .answer(let replay) = SignIn.before(
                request, scheme: "https", configuration: configuration,
                now: 1_000_000, memory: &memory)
        else {
            Issue.record("replay accepted")
            return
        }
        #expect(replay.status == 400 && replay.log.contains { $0.text.contains("used already") })
    }

    @Test func logoutClearsEveryCookieAndGoesToTheProvider() throws {
        let request = Self.request("GET", "/.gatehouse/logout", cookie: Self.session(idleIn: 3000, now: 1_000_000))
        guard case .answer(let result) = try Self.step(request) else {
            Issue.record("not answered")
            return
        }
        #expect(result.status == 302)
        let location = try #require(result.headers.first { $0.name == "Location" }?.value)
        #expect(location.hasPrefix("https://idp.example/logout?post_logout_redirect_uri=https%3A%2F%2Fsite.example%2F"))
        #expect(location.hasSuffix("&id_token_hint=h.p.s"))
        let cleared = result.headers.filter { $0.name == "Set-Cookie" && $0.value.contains("Max-Age=0") }
        #expect(cleared.count == Cookies.maximumChunks + 1)
    }

    @Test func aNavigationWithoutASessionIsSentToTheProviderWithPKCE() throws {
        let request = Self.request("GET", "/app", query: "x=1", cookie: nil)
        let redirect = try #require(
            SignIn.loginRedirect(request, scheme: "https", settings: try Self.configuration().signIn, now: 0))
        let location = try #require(redirect.headers.first { $0.name == "Location" }?.value)
        #expect(
            location.hasPrefix(
                "https://idp.example/auth?response_type=code&client_id=web&redirect_uri="
                    + "https%3A%2F%2Fsite.example%2F.gatehouse%2Fcallback&scope=openid%20profile%20email&state="))
        #expect(location.hasSuffix("&code_challenge_method=S256"))
        let cookie = try #require(redirect.headers.first { $0.name == "Set-Cookie" }?.value)
        let sealed = String(cookie.dropFirst("__Host-gatehouse-login=".count).prefix { $0 != ";" })
        #expect(LoginState.open(sealed, keys: SessionTests.keys())?.target == "/app?x=1")
    }
}
