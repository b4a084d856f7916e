import Testing

@testable import LighttpdConfig

@Suite("url.rewrite-once applied before the decision, as mod_rewrite applies it")
struct RewriteTests {
    static let config = #"""
        server.modules += ( "mod_rewrite" )
        url.rewrite-once = (
            "^/old/([^?]*)(?:\?(.*))?$" => "/api/$1?$2",
            "^/keep" => "",
            "^/cost" => "/price$$/%%",
        )
        $HTTP["host"] == "repeat.test" {
            url.rewrite-repeat = ( "^/x" => "/y" )
        }
        $HTTP["host"] == "context.test" {
            url.rewrite-once = ( "^/(.*)" => "/%1" )
        }
        """#

    func rewritten(_ target: String, host: String = "localhost", _ text: String = config) throws -> String? {
        let facts = try RequestFacts(
            parsing: ClientRequest(method: "GET", target: target, headers: [("Host", host)]))
        return try read(text).rewrittenTarget(for: facts)
    }

    @Test func theFirstMatchingRuleRewritesTheNormalisedTarget() throws {
        #expect(try rewritten("/old/flows?a=1") == "/api/flows?a=1")
        #expect(try rewritten("/x/../old/%66lows") == "/api/flows?")
        #expect(try rewritten("/keep/old/x") == nil)
        #expect(try rewritten("/cost") == "/price$/%")
        #expect(try rewritten("/other") == nil)
    }

    @Test func withoutModRewriteNothingIsRewritten() throws {
        #expect(try rewritten("/old/x", #"url.rewrite-once = ( "^/old/(.*)" => "/api/$1" )"#) == nil)
    }

    @Test func whatIsNotModelledIsSaid() {
        #expect(throws: LighttpdConfig.RewriteUnsupported.self) { try rewritten("/x", host: "repeat.test") }
        #expect(throws: LighttpdConfig.RewriteUnsupported.self) { try rewritten("/x", host: "context.test") }
    }
}
