import Testing

@testable import LighttpdConfig

/// Which contexts apply to a request, and how their values merge: global first, then every matching
/// context in lighttpd's order, later ones winning per key.
@Suite struct EvaluationTests {
    static let chain = """
        gatehouse.realm = "global"
        $HTTP["url"] == "/a" { gatehouse.realm = "a" }
        else $HTTP["url"] =^ "/b" { gatehouse.realm = "b" }
        else $HTTP["url"] =~ "^/c" { gatehouse.realm = "c" }
        else { gatehouse.realm = "none of them" }
        """

    @Test(arguments: [
        ("/a", "a"), ("/b", "b"), ("/bee", "b"), ("/c", "c"), ("/a/", "none of them"),
        ("/", "none of them"),
    ])
    func elseChains(_ path: String, _ realm: String) throws {
        let config = try read(Self.chain)
        #expect(effective(config, RequestFacts(path: path))["gatehouse.realm"] == "\"\(realm)\"")
    }

    static let nested = """
        gatehouse.mode = "enforce"
        $HTTP["host"] == "api.example.com" {
            gatehouse.realm = "api"
            $HTTP["url"] =^ "/admin/" { gatehouse.realm = "admin" }
            else { gatehouse.mode = "report-only" }
        }
        else {
            $HTTP["url"] =^ "/admin/" { gatehouse.realm = "other-admin" }
        }
        """

    @Test(arguments: [
        ("api.example.com", "/admin/x", #""admin""#, #""enforce""#),
        ("api.example.com", "/x", #""api""#, #""report-only""#),
        ("www.example.com", "/admin/x", #""other-admin""#, #""enforce""#),
        ("www.example.com", "/x", nil, #""enforce""#),  // the inner else needs its parent true
    ])
    func nestedConditions(_ host: String, _ path: String, _ realm: String?, _ mode: String) throws {
        let values = effective(try read(Self.nested), RequestFacts(path: path, host: host))
        #expect(values["gatehouse.realm"] == realm)
        #expect(values["gatehouse.mode"] == mode)
    }

    static let order = """
        gatehouse.realm = "global"
        gatehouse.mode = "enforce"
        $HTTP["url"] =^ "/api/" {
            gatehouse.realm = "api"
            $HTTP["request-method"] == "POST" { gatehouse.realm = "api-post" }
        }
        $HTTP["request-method"] == "POST" { gatehouse.mode = "report-only" gatehouse.realm = "any-post" }
        $HTTP["url"] =^ "/api/v2/" { gatehouse.realm = "v2" }
        """

    @Test(arguments: [
        ("GET", "/", #""global""#, #""enforce""#),
        ("GET", "/api/x", #""api""#, #""enforce""#),
        ("POST", "/api/x", #""any-post""#, #""report-only""#),  // a later sibling beats an earlier nested block
        ("POST", "/api/v2/x", #""v2""#, #""report-only""#),
        ("POST", "/", #""any-post""#, #""report-only""#),
    ])
    func laterContextsWinPerKey(_ method: String, _ path: String, _ realm: String, _ mode: String) throws {
        let values = effective(try read(Self.order), RequestFacts(path: path, method: method))
        #expect(values["gatehouse.realm"] == realm)
        #expect(values["gatehouse.mode"] == mode)
    }

    @Test func theSameConditionTwiceIsOneContextInItsFirstPlace() throws {
        let config = try read(
            """
            $HTTP["url"] =^ "/m/" { gatehouse.realm = "m" }
            $HTTP["host"] == "example.com" { gatehouse.realm = "host" gatehouse.mode = "host" }
            $HTTP["url"] =~ "^/m/" { gatehouse.mode = "m" }
            """)
        #expect(config.contexts.count == 3)
        let values = effective(config, RequestFacts(path: "/m/x", host: "example.com"))
        #expect(values["gatehouse.realm"] == #""host""#)
        #expect(values["gatehouse.mode"] == #""host""#)  // block 1 comes before block 2, wherever it was written
    }

    @Test func conditionsDifferingOnlyInCaseAreOneContext() throws {
        let config = try read(
            """
            $HTTP["url"] =^ "/case/" { gatehouse.realm = "lower" }
            $HTTP["url"] =^ "/CaSe/" { gatehouse.mode = "upper" }
            """)
        #expect(config.contexts.count == 2)
        #expect(effective(config, RequestFacts(path: "/CaSe/x"))["gatehouse.mode"] == nil)
        #expect(effective(config, RequestFacts(path: "/case/x"))["gatehouse.mode"] == #""upper""#)
    }

    @Test func anElseBlockTakesTheKeyOfTheOppositeCondition() throws {
        let config = try read(
            """
            $HTTP["url"] == "/a" { gatehouse.realm = "a" } else { gatehouse.realm = "not a" }
            $HTTP["url"] != "/a" { gatehouse.mode = "joined the else block" }
            """)
        #expect(config.contexts.count == 3)
        #expect(config.contexts[2].directives.map(\.key) == ["gatehouse.realm", "gatehouse.mode"])
        #expect(effective(config, RequestFacts(path: "/a"))["gatehouse.mode"] == nil)
    }

    @Test func blocksInsideTwoElseBlocksOfOneParentCanMerge() throws {
        // lighttpd keys a block inside `else { … }` before the else block gets its final key, so the same
        // condition inside two else blocks at one level lands in the first one's block.
        let config = try read(
            """
            $HTTP["url"] == "/a" { } else { $HTTP["host"] == "x" { gatehouse.realm = "first" } }
            $HTTP["url"] == "/b" { } else { $HTTP["host"] == "x" { gatehouse.mode = "second" } }
            """)
        #expect(config.contexts.count == 6)
        #expect(effective(config, RequestFacts(path: "/b", host: "x"))["gatehouse.mode"] == #""second""#)
        #expect(effective(config, RequestFacts(path: "/a", host: "x"))["gatehouse.mode"] == nil)
    }

    @Test(arguments: [
        (#"$HTTP["url"] == "/a" { } else { } else { }"#, "unreachable condition following else catch-all"),
        (
            #"$HTTP["url"] == "/a" { } else { } else $HTTP["url"] == "/b" { }"#,
            "unreachable condition following else catch-all"
        ),
        (#"$HTTP["url"] != "/a" { }"# + "\n" + #"$HTTP["url"] == "/a" { } else { }"#, "unreachable else condition"),
        (
            #"$HTTP["url"] == "/b" { }"# + "\n" + #"$HTTP["url"] == "/a" { } else $HTTP["url"] == "/b" { }"#,
            "unreachable else condition"
        ),
    ])
    func unreachableBranches(_ text: String, _ message: String) {
        #expect(refusal(text)?.message == message)
    }

    @Test func plusEqualsInABlockStartsFromTheEnclosingValue() throws {
        let config = try read(
            """
            gatehouse.strip-headers = ( "X-A" )
            $HTTP["url"] =^ "/api/" { gatehouse.strip-headers += ( "X-B" ) }
            """)
        #expect(effective(config, RequestFacts(path: "/api/"))["gatehouse.strip-headers"] == #"("X-A", "X-B")"#)
        #expect(effective(config, RequestFacts(path: "/"))["gatehouse.strip-headers"] == #"("X-A")"#)
    }

    @Test func keysMatchThePrefixCaseInsensitivelyAndComeBackLowerCased() throws {
        let config = try read(#"Gatehouse.Realm = "r""# + "\n" + #"server.tag = "t""#)
        let chosen = config.directives(for: RequestFacts(path: "/"), prefix: "gatehouse.")
        #expect(chosen.map(\.key) == ["gatehouse.realm"])
        #expect(chosen.first?.location.line == 1)
        #expect(config.contexts[0].directives.contains { $0.key == "Gatehouse.Realm" })
    }

    @Test func theLocationIsTheAssignmentThatWon() throws {
        let config = try read("gatehouse.realm = \"g\"\n$HTTP[\"url\"] =^ \"/x\" {\n    gatehouse.realm = \"x\"\n}\n")
        let realm = try #require(config.directives(for: RequestFacts(path: "/x"), prefix: "gatehouse.").first)
        #expect((realm.location.line, realm.location.column) == (3, 5))
    }

    @Test func contextsDescribeTheTree() throws {
        let config = try read(Self.nested)
        #expect(config.contexts.map(\.index) == [0, 1, 2, 3, 4, 5])
        #expect(config.contexts.map(\.parent) == [nil, 0, 1, 1, 0, 4])
        #expect(config.contexts.map(\.previous) == [nil, nil, nil, 2, 1, nil])
        #expect(
            config.contexts.map(\.condition) == [
                nil, #"$HTTP["host"] == "api.example.com""#,
                #"$HTTP["url"] =^ "/admin/""#, "else", "else",
                #"$HTTP["url"] =^ "/admin/""#,
            ])
        #expect(config.contexts[2].location == SourceLocation(file: fixture("inline.conf"), line: 4, column: 5))
        #expect(config.contexts[3].location.line == 5)
    }
}
