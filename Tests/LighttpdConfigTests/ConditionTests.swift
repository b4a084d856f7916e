import Testing

@testable import LighttpdConfig

/// Each kind of condition and operator, decided for one request as lighttpd decides it.
@Suite struct ConditionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let condition: String
        let request: RequestFacts
        let holds: Bool
        var testDescription: String { "\(condition) for \(request.method) \(request.path) → \(holds)" }
    }

    static func when(_ condition: String, _ request: RequestFacts, _ holds: Bool) -> Case {
        Case(condition: condition, request: request, holds: holds)
    }

    static func get(
        _ path: String, host: String = "", ip: String = "127.0.0.1", query: String = "",
        headers: [(name: String, value: String)] = [], scheme: String = "http",
        socket: String? = nil, method: String = "GET"
    ) -> RequestFacts {
        RequestFacts(
            path: path, host: host, method: method, remoteIP: ip, scheme: scheme, query: query,
            headers: headers, serverSocket: socket)
    }

    @Test(arguments: [
        // url, every operator
        when(#"$HTTP["url"] == "/a""#, get("/a"), true),
        when(#"$HTTP["url"] == "/a""#, get("/a/"), false),
        when(#"$HTTP["url"] == "/a""#, get("/A"), false),
        when(#"$HTTP["url"] != "/a""#, get("/b"), true),
        when(#"$HTTP["url"] != "/a""#, get("/a"), false),
        when(#"$HTTP["url"] =^ "/api/""#, get("/api/x"), true),
        when(#"$HTTP["url"] =^ "/api/""#, get("/ap"), false),
        when(#"$HTTP["url"] =$ ".json""#, get("/x.json"), true),
        when(#"$HTTP["url"] =$ ".json""#, get("/json"), false),
        when(#"$HTTP["url"] =~ "^/re(gex)?/[0-9]+$""#, get("/regex/42"), true),
        when(#"$HTTP["url"] =~ "^/re(gex)?/[0-9]+$""#, get("/regex/x"), false),
        when(#"$HTTP["url"] =~ "admin""#, get("/x/admin/y"), true),  // a search, not a whole match
        when(#"$HTTP["url"] !~ "^/public""#, get("/private"), true),
        when(#"$HTTP["url"] !~ "^/public""#, get("/public/x"), false),
        when(#"$HTTP["url"] =~ "^/caf\x{e9}$""#, get("/café"), true),  // PCRE2 in UTF mode
        when(#"$HTTP["url"] =~ "(?i)^/ADMIN""#, get("/admin"), true),
        // regexes lighttpd turns into plain comparisons
        when(#"$HTTP["url"] =~ "^/exact$""#, get("/exact"), true),
        when(#"$HTTP["url"] =~ "^/exact$""#, get("/exact/"), false),
        when(#"$HTTP["url"] =~ "\.php$""#, get("/index.php"), true),
        when(#"$HTTP["url"] =~ "\.php$""#, get("/indexphp"), false),
        when(#"$HTTP["url"] =~ "^/static/""#, get("/static/a.css"), true),
        when(#"$HTTP["url"] =~ "^$""#, get(""), true),
        // host: lower-cased request, port-insensitive ==, config values kept as written
        when(#"$HTTP["host"] == "example.com""#, get("/", host: "example.com"), true),
        when(#"$HTTP["host"] == "example.com""#, get("/", host: "Example.COM"), true),
        when(#"$HTTP["host"] == "example.com""#, get("/", host: "example.com:8080"), true),
        when(#"$HTTP["host"] == "example.com""#, get("/", host: "example.com."), true),
        when(#"$HTTP["host"] == "example.com""#, get("/", host: "example.co"), false),
        when(#"$HTTP["host"] == "example.com""#, get("/", host: "example.com.evil"), false),
        when(#"$HTTP["host"] == "example.com:8080""#, get("/", host: "example.com"), true),
        when(#"$HTTP["host"] == "example.com:8080""#, get("/", host: "example.com:9090"), false),
        // the request's :80 is dropped; the configuration's is kept
        when(#"$HTTP["host"] == "example.com:80""#, get("/", host: "example.com:80"), true),
        when(#"$HTTP["host"] == "Example.com""#, get("/", host: "example.com"), false),
        when(#"$HTTP["host"] != "example.com""#, get("/", host: "other.org"), true),
        when(#"$HTTP["host"] == """#, get("/"), true),
        when(#"$HTTP["host"] == "example.com""#, get("/", headers: [("Host", "EXAMPLE.com")]), true),
        when(#"$HTTP["host"] =$ ".example.com""#, get("/", host: "api.example.com"), true),
        when(#"$HTTP["host"] =^ "api.""#, get("/", host: "api.example.com"), true),
        when(#"$HTTP["host"] =~ "^(www\.)?example\.com$""#, get("/", host: "www.example.com"), true),
        when(#"$HTTP["host"] == "[::1]""#, get("/", host: "[0:0::1]"), true),
        // request-method, scheme, querystring
        when(#"$HTTP["request-method"] == "POST""#, get("/", method: "POST"), true),
        when(#"$HTTP["request-method"] == "POST""#, get("/"), false),
        when(#"$HTTP["scheme"] == "https""#, get("/", scheme: "https"), true),
        when(#"$HTTP["scheme"] == "https""#, get("/"), false),
        when(#"$HTTP["querystring"] =~ "(^|&)debug=1(&|$)""#, get("/", query: "a=1&debug=1"), true),
        when(#"$HTTP["querystring"] =~ "(^|&)debug=1(&|$)""#, get("/", query: "debug=10"), false),
        when(#"$HTTP["query-string"] == "q=%c3%a9""#, get("/", query: "q=%C3%A9"), true),  // normalised like URLs
        when(#"$HTTP["querystring"] == "q=é""#, get("/", query: "q=%C3%A9"), true),
        when(#"$HTTP["querystring"] == """#, get("/"), true),
        // headers
        when(#"$HTTP["useragent"] =~ "curl""#, get("/", headers: [("user-agent", "curl/8")]), true),
        when(#"$HTTP["user-agent"] =^ "Mozilla""#, get("/", headers: [("User-Agent", "Mozilla/5.0")]), true),
        when(#"$HTTP["cookie"] == "a=1; b=2""#, get("/", headers: [("Cookie", "a=1"), ("Cookie", "b=2")]), true),
        when(#"$HTTP["referer"] =$ "/from""#, get("/", headers: [("Referer", "http://x/from")]), true),
        when(#"$HTTP["language"] =^ "de""#, get("/", headers: [("Accept-Language", "de-DE")]), true),
        when(#"$REQUEST_HEADER["X-Tenant"] == "acme""#, get("/", headers: [("x-tenant", "acme")]), true),
        when(#"$REQUEST_HEADER["X-Tenant"] == "acme""#, get("/", headers: [("X-Tenant", "ACME")]), false),
        when(#"$REQUEST_HEADER["X-Many"] == "a, b""#, get("/", headers: [("X-Many", "a"), ("x-many", "b")]), true),
        when(#"$REQUEST_HEADER["X-Missing"] == """#, get("/"), true),
        when(#"$REQUEST_HEADER["X-Missing"] != "x""#, get("/"), true),
        // remoteip: addresses, CIDR blocks, IPv6, IPv4-mapped clients
        when(#"$HTTP["remoteip"] == "10.0.0.0/8""#, get("/", ip: "10.1.2.3"), true),
        when(#"$HTTP["remoteip"] == "10.0.0.0/8""#, get("/", ip: "11.1.2.3"), false),
        when(#"$HTTP["remoteip"] == "10.0.0.0/8""#, get("/", ip: "::ffff:10.1.2.3"), true),
        when(#"$HTTP["remoteip"] == "192.168.1.7/32""#, get("/", ip: "192.168.1.7"), true),
        when(#"$HTTP["remoteip"] == "192.168.1.0/25""#, get("/", ip: "192.168.1.200"), false),
        when(#"$HTTP["remoteip"] == "127.0.0.1""#, get("/", ip: "127.0.0.1"), true),
        // without a mask, only the same address family compares
        when(#"$HTTP["remoteip"] == "127.0.0.1""#, get("/", ip: "::ffff:127.0.0.1"), false),
        when(#"$HTTP["remoteip"] != "127.0.0.1""#, get("/", ip: "127.0.0.2"), true),
        when(#"$HTTP["remoteip"] != "10.0.0.0/8""#, get("/", ip: "10.9.9.9"), false),
        when(#"$HTTP["remote-ip"] == "2001:db8::/32""#, get("/", ip: "2001:db8:1::5"), true),
        when(#"$HTTP["remoteip"] == "2001:db8::/32""#, get("/", ip: "2001:db9::5"), false),
        when(#"$HTTP["remoteip"] == "[::1]""#, get("/", ip: "0:0::1"), true),
        when(#"$HTTP["remoteip"] == "::ffff:0:0/96""#, get("/", ip: "203.0.113.9"), true),
        when(#"$HTTP["remoteip"] == "::ffff:10.0.0.0/104""#, get("/", ip: "10.2.3.4"), true),
        when(#"$HTTP["remoteip"] == "::ffff:10.0.0.0/104""#, get("/", ip: "11.2.3.4"), false),
        when(#"$HTTP["remoteip"] =~ "^127\.""#, get("/", ip: "127.0.0.1"), true),
        when(#"$HTTP["remoteip"] =^ "10.0.0.1""#, get("/", ip: "10.0.0.1"), true),
        when(#"$HTTP["remoteip"] == "10.0.0.0/8""#, get("/", ip: "not-an-address"), false),
        // the socket the request came in on
        when(#"$SERVER["socket"] == ":8443""#, get("/", socket: ":8443"), true),
        when(#"$SERVER["socket"] == ":8443""#, get("/"), false),
        when(#"$SERVER["socket"] == ":80""#, get("/"), true),  // nil: the global socket, port 80 by default
        when(#"$SERVER["socket"] == "127.0.0.1:8080""#, get("/", socket: "127.0.0.1:8080"), true),
        when(#"$SERVER["socket"] =~ ":84""#, get("/", socket: "[::]:8443"), true),
    ])
    func decides(_ test: Case) throws {
        let config = try read("\(test.condition) { gatehouse.realm = \"in\" }")
        #expect(config.matchingContexts(for: test.request).contains(1) == test.holds)
        #expect((effective(config, test.request)["gatehouse.realm"] != nil) == test.holds)
    }

    @Test(arguments: [
        (#"$HTTP["url"] =~ "^/exact$""#, #"$HTTP["url"] == "/exact""#),
        (#"$HTTP["url"] =~ "\.php$""#, #"$HTTP["url"] =$ ".php""#),
        (#"$HTTP["url"] =~ "^/static/""#, #"$HTTP["url"] =^ "/static/""#),
        (#"$HTTP["url"] =~ "json$""#, #"$HTTP["url"] =$ "json""#),
        (#"$HTTP["url"] =~ "^/a.b$""#, #"$HTTP["url"] =~ "^/a.b$""#),
        (#"$HTTP["url"] =~ "^\.php$""#, #"$HTTP["url"] =~ "^\.php$""#),
        (#"$HTTP["url"] !~ "^/x$""#, #"$HTTP["url"] !~ "^/x$""#),
        (#"$SERVER["socket"] =~ ":80$""#, #"$SERVER["socket"] =~ ":80$""#),  // never simplified
        (#"$HTTP["url"] =~ "^/" + "api/""#, #"$HTTP["url"] =^ "/api/""#),
    ])
    func conditionTexts(_ written: String, _ printed: String) throws {
        let config = try read("\(written) { }")
        #expect(config.contexts[1].condition == printed)
    }

    @Test(arguments: [
        (#"$HTTP["remoteip"] == "10.0.0.300""#, "invalid IP addr: 10.0.0.300"),
        (#"$HTTP["remoteip"] == "localhost""#, "invalid IP addr: localhost"),
        (#"$HTTP["remoteip"] == "10.0.0.0/33""#, "invalid IP addr: 10.0.0.0/33: the CIDR mask must be 1 to 32"),
        (#"$HTTP["remoteip"] == "10.0.0.0/0""#, "invalid IP addr: 10.0.0.0/0: the CIDR mask must be 1 to 32"),
        (#"$SERVER["socket"] =~ "^:80$""#, "invalid IP addr: ^:80$"),  // socket values are normalised, even regexes
        (#"$HTTP["remoteip"] =^ "10.""#, "invalid IP addr: 10."),  // =^ and =$ need a whole address too
        (#"$HTTP["host"] == "a:b""#, "invalid IP addr: a:b"),
        (#"$HTTP["host"] == "[::1""#, "invalid IP addr: [::1"),
        (#"$SERVER["socket"] == "127.0.0.1:99999""#, "invalid IP addr: 127.0.0.1:99999"),
        (#"$HTTP["url"] =~ "(""#, "pcre2_compile: missing closing parenthesis at offset 1, regex: ("),
        (#"$HTTP["url"] =~ "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)""#, "Too many captures in regex"),
        (#"$HTTP["nope"] == "x""#, #"error comp_key $HTTP["nope"] == "x""#),
        (#"$HTTP["URL"] == "x""#, "error comp_key"),
        (#"$HTTP["request-header"] == "x""#, "error comp_key"),  // 1.4.69 spells it $REQUEST_HEADER["Name"]
        (#"$SERVER["host"] == "x""#, "error comp_key"),
        (#"$PHYSICAL["path"] == "x""#, "error comp_key"),
        (#"$HTTP["url"] == ( "x" )"#, "rvalue must be string"),
        (#"$HTTP["url"] == 5"#, "rvalue must be string"),
    ])
    func refusedConditions(_ condition: String, _ message: String) throws {
        let error = try #require(refusal("\(condition) { }"))
        #expect(error.message.hasPrefix(message), "\(error)")
        #expect((error.location.line, error.location.column) == (1, 1))
    }

    @Test func queryNormalisationFollowsServerHttpParseopts() throws {
        let off = try read(
            #"server.http-parseopts = ( "url-normalize" => "disable" )"# + "\n"
                + #"$HTTP["querystring"] == "q=%c3%a9" { gatehouse.realm = "in" }"#)
        #expect(off.matchingContexts(for: Self.get("/", query: "q=%c3%a9")).contains(1))
        #expect(!off.matchingContexts(for: Self.get("/", query: "q=%C3%A9")).contains(1))
    }

    @Test(arguments: [
        ("", ":80"),
        ("server.port = 8080", ":8080"),
        (#"server.bind = "127.0.0.1""# + "\nserver.port = 81", "127.0.0.1:81"),
        (#"server.bind = "/run/lighttpd.sock""#, "/run/lighttpd.sock"),
        (#"ssl.engine = "enable""#, ":443"),
    ])
    func theGlobalSocket(_ text: String, _ socket: String) throws {
        #expect(try read(text).globalSocket == socket)
    }
}
