import Testing

@testable import LighttpdConfig

/// A request as a client sends it, read as lighttpd 1.4.69 reads it with the default
/// `server.http-parseopts` (cross-checked against the real server by Tests/Integration/test_sameness.py).
@Suite("Requests parsed as lighttpd parses them")
struct RequestParsingTests {
    func parsed(
        _ target: String, _ headers: [(name: String, value: String)] = [("Host", "localhost")]
    ) -> Result<RequestFacts, RequestRejected> {
        Result { () throws(RequestRejected) in
            try RequestFacts(parsing: ClientRequest(method: "GET", target: target, headers: headers))
        }
    }

    func split(_ target: String) -> String {
        switch parsed(target) {
        case .success(let facts): facts.path + (facts.query.isEmpty ? "" : " ? " + facts.query)
        case .failure(let rejected): "\(rejected.status)"
        }
    }

    @Test func whatARequestSaysOfItsBodyIsReadAsLighttpdReadsIt() {
        func status(_ method: String, _ fields: [(name: String, value: String)]) -> Int {
            let request = ClientRequest(method: method, target: "/x", headers: [("Host", "localhost")] + fields)
            do {
                _ = try RequestFacts(parsing: request)
                return 0
            } catch {
                return error.status
            }
        }
        #expect(status("POST", []) == 411)  // (a POST gives its body's length, even of none)
        #expect(status("POST", [("Content-Length", "0")]) == 0)
        #expect(status("POST", [("Transfer-Encoding", "chunked")]) == 0)
        #expect(status("POST", [("Transfer-Encoding", "gzip")]) == 501)
        #expect(status("POST", [("Transfer-Encoding", "chunked"), ("Content-Length", "0")]) == 400)
        #expect(status("PUT", []) == 0)
        #expect(status("PATCH", []) == 0)
        #expect(status("GET", [("Content-Length", "2")]) == 400)
        #expect(status("HEAD", [("Transfer-Encoding", "chunked")]) == 400)
        #expect(status("GET", [("Content-Length", "00")]) == 0)
    }

    @Test func pathsAreDecodedAndTheirDotSegmentsResolved() {
        #expect(split("/a/%2e%2E/b") == "/b")
        #expect(split("/%61pi/x") == "/api/x")
        #expect(split("/public/%2e%2e/adm%69n/x") == "/admin/x")
        #expect(split("/a%2Fb") == "/a/b")
        #expect(split("/a%2f..%2fb") == "/b")
        #expect(split("/a//b/./c/") == "/a/b/c/")
        #expect(split("/a/..") == "/")
        #expect(split("/a/b/.") == "/a/b/")
        #expect(split("//") == "/")
        #expect(split("/a/..b/...") == "/a/..b/...")
        #expect(split("/caf%C3%A9") == "/café")
        #expect(split("/100%") == "/100%")
        #expect(split("/a%20b") == "/a b")
        #expect(split("/x#fragment?y=1") == "/x")
    }

    @Test func queriesAreNormalisedNotDecoded() {
        #expect(split("/x?%64ebug=1") == "/x ? debug=1")
        #expect(split("/x?%61ccess_token=t") == "/x ? access_token=t")
        #expect(split("/x?q=%7e%41") == "/x ? q=~A")
        #expect(split("/x?a=%c3%a9&b=%2f") == "/x ? a=%C3%A9&b=%2F")
        #expect(split("/x?debug%3D1") == "/x ? debug%3D1")
        #expect(split("/x?a b") == "/x ? a%20b")
        #expect(split("/a/../b?c/../d") == "/b ? c/../d")
    }

    @Test func lighttpdRefusesControlsAndBytesThatAreNeverUTF8() {
        #expect(split("/x%00") == "400")
        #expect(split("/x?a=%0a") == "400")
        #expect(split("/x%7F") == "400")
        #expect(split("/x%C0%80") == "400")
        #expect(split("/x?%F5") == "400")
        #expect(split("x") == "400")
    }

    func authority(_ host: String) -> String {
        switch parsed("/", [("Host", host)]) {
        case .success(let facts): facts.authority
        case .failure(let rejected): "\(rejected.status)"
        }
    }

    @Test func theHostIsCheckedAndNormalised() {
        #expect(authority("API.Test.") == "api.test")
        #expect(authority("api.test:80") == "api.test")
        #expect(authority("api.test:8080") == "api.test:8080")
        #expect(authority("api.test:") == "api.test")
        #expect(authority("127.0.0.1:80") == "127.0.0.1")
        #expect(authority("[::1]:80") == "[::1]")
        for invalid in ["bad_host", "a..b", "-x.test", "1.2.3", "api.test:x", "127.0.0.1:0x50", ".", "[::1"] {
            #expect(authority(invalid) == "400", "\(invalid)")
        }
        #expect(authority("") == "400")  // an empty Host is no Host
    }

    @Test func repeatedFieldsAreJoinedAndEmptyOnesDropped() throws {
        let facts = try parsed(
            "/",
            [
                ("Host", "a.test"), ("X-Team", "blue"), ("x-team", "  green "), ("X-Empty", "  "),
                ("Cookie", "a=1"), ("Cookie", "b=2"), ("HOST", "A.test"), ("X_Team", "red"),
            ]
        ).get()
        #expect(facts.header("X-TEAM") == "blue, green")
        #expect(facts.header("Cookie") == "a=1; b=2")
        #expect(facts.header("X-Empty") == nil)
        #expect(facts.header("X_Team") == "red")
        #expect(facts.authority == "a.test")
    }

    @Test func fieldsLighttpdAllowsOnceMustAgree() {
        let rejected: (String, String) -> Bool = { name, second in
            if case .failure = parsed("/", [("Host", "a.test"), (name, "one"), (name, second)]) { return true }
            return false
        }
        #expect(!rejected("Content-Type", "ONE"))
        #expect(rejected("Content-Type", "two"))
        #expect(rejected("Content-Length", "one"))
        if case .success = parsed("/", [("Host", "a.test"), ("Host", "b.test")]) { Issue.record("two hosts") }
        if case .success = parsed("/", [("X Y", "a"), ("Host", "a")]) { Issue.record("a space in a name") }
        if case .success = parsed("/", [("Host", "a"), ("X", "a\u{1}b")]) { Issue.record("a control in a value") }
    }
}
