import Foundation
import GatehouseCore
import Testing

@testable import LighttpdConfig

/// The evaluator against a running lighttpd 1.4.69: for each request, the blocks lighttpd applied (seen in
/// the X-Block and Server headers it sends) are the ones the reader picks.
@Suite(.enabled(if: LighttpdBinary.isInstalled, "needs /usr/sbin/lighttpd"))
struct LighttpdRuntimeTests {
    enum Socket: String, Sendable { case global, second, ipv6 }

    struct Probe: Sendable, CustomTestStringConvertible {
        let method: String
        let target: String
        let headers: [(name: String, value: String)]
        let socket: Socket
        var testDescription: String {
            "\(socket) \(method) \(target) " + headers.map { "\($0.name): \($0.value)" }.joined(separator: ", ")
        }
    }

    static func probe(
        _ method: String, _ target: String, _ headers: [(String, String)] = [],
        via socket: Socket = .global
    ) -> Probe {
        Probe(method: method, target: target, headers: headers.map { (name: $0.0, value: $0.1) }, socket: socket)
    }

    static let probes: [Probe] = [
        probe("GET", "/"), probe("GET", "/nope"), probe("GET", "/a"), probe("GET", "/b"), probe("GET", "/c"),
        probe("GET", "/api/x"), probe("POST", "/api/x"), probe("PUT", "/api/x"), probe("PATCH", "/api/x"),
        probe("DELETE", "/api/x"), probe("HEAD", "/api/x"), probe("GET", "/api/x?verbose"),
        probe("GET", "/api/x?a&verbose&b"), probe("POST", "/api/x?verbose"), probe("DELETE", "/x"),
        probe("GET", "/", [("Host", "example.com")]), probe("GET", "/", [("Host", "example.com:8080")]),
        probe("GET", "/", [("Host", "EXAMPLE.com")]), probe("GET", "/", [("Host", "example.com.")]),
        probe("GET", "/", [("Host", "example.com:80")]), probe("GET", "/", [("Host", "example.co")]),
        probe("GET", "/", [("Host", "www.example.org")]), probe("GET", "/", [("Host", "upper.example.net")]),
        probe("GET", "/", [("Host", "Upper.example.net")]), probe("GET", "/", [("Host", "[::1]")]),
        probe("GET", "/", [("Host", "[0:0::1]:80")]), probe("GET", "/", [("Host", "127.0.0.1:8080")]),
        probe("GET", "/m/x", [("Host", "example.com")]), probe("GET", "/m/x"),
        probe("GET", "/x?debug=1"), probe("GET", "/x?a=1&debug=1"), probe("GET", "/x?debug=10"),
        probe("GET", "/x?q=%C3%A9"), probe("GET", "/x?prefixed"), probe("GET", "/x?Prefixed"),
        probe("GET", "/", [("X-Tenant", "acme")]), probe("GET", "/", [("x-tenant", "global")]),
        probe("GET", "/", [("X-Tenant", "ACME")]), probe("GET", "/", [("User-Agent", "curl/8.0")]),
        probe("GET", "/", [("User-Agent", "Mozilla/5.0")]), probe("GET", "/", [("Cookie", "a=1; session=2")]),
        probe("GET", "/", [("Cookie", "a=1"), ("Cookie", "session=2")]), probe("GET", "/", [("Cookie", "xsession=1")]),
        probe("GET", "/", [("Accept-Language", "de-DE,en")]), probe("GET", "/", [("Referer", "http://x/from")]),
        probe("GET", "/index.php"), probe("GET", "/index.phps"), probe("GET", "/exact"), probe("GET", "/exact/"),
        probe("GET", "/re/123"), probe("GET", "/regex/1"), probe("GET", "/re/x"),
        probe("GET", "/case/x"), probe("GET", "/CaSe/x"),
        probe("GET", "/", via: .second), probe("GET", "/api/x", via: .second), probe("POST", "/api/x", via: .second),
        probe("GET", "/", via: .ipv6), probe("GET", "/api/y", [("Host", "[::1]")], via: .ipv6),
    ]

    @Test func lighttpdAppliesTheBlocksTheReaderPicks() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("gatehouse-lighttpd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ports = (
            main: try HTTPProbe.freePort(), second: try HTTPProbe.freePort(),
            ipv6: try HTTPProbe.freePort(ipv6: true)
        )
        let sockets: [Socket: String] = [.second: "127.0.0.1:\(ports.second)", .ipv6: "[::1]:\(ports.ipv6)"]
        let main = directory.appendingPathComponent("lighttpd.conf").path
        try """
        server.document-root = "\(directory.path)"
        server.bind = "127.0.0.1"
        server.port = \(ports.main)
        server.errorlog = "\(directory.path)/error.log"
        server.modules = ( "mod_setenv" )
        var.second_socket = "\(sockets[.second]!)"
        var.ipv6_socket = "\(sockets[.ipv6]!)"
        include "\(fixture("runtime/conditions.conf"))"

        """.write(toFile: main, atomically: true, encoding: .utf8)
        let config = try LighttpdConfig.load(path: main, environment: testEnvironment)
        #expect(config.globalSocket == "127.0.0.1:\(ports.main)")

        let server = Process()
        server.executableURL = URL(fileURLWithPath: LighttpdBinary.path)
        server.arguments = ["-m", LighttpdBinary.modules, "-D", "-f", main]
        try server.run()
        defer {
            // SIGKILL, by its pid: a child started from a test thread may inherit a mask that blocks SIGTERM.
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        try #require(HTTPProbe.waitUntilListening(host: "127.0.0.1", port: ports.main))
        try #require(HTTPProbe.waitUntilListening(host: "::1", port: ports.ipv6))

        var seen = Set<String>()
        for probe in Self.probes {
            let (host, port, remote) =
                switch probe.socket {
                case .global: ("127.0.0.1", ports.main, "127.0.0.1")
                case .second: ("127.0.0.1", ports.second, "127.0.0.1")
                case .ipv6: ("::1", ports.ipv6, "::1")
                }
            // A request that may carry a body needs a length, or lighttpd answers 411 before any condition.
            let length = ["POST", "PUT", "PATCH"].contains(probe.method) ? ["Content-Length: 0"] : []
            let lines =
                ["\(probe.method) \(probe.target) HTTP/1.0"] + probe.headers.map { "\($0.name): \($0.value)" }
                + length
            let response = try HTTPProbe.exchange(host: host, port: port, request: lines)
            let theirs = (block: response.headers["x-block"], tag: response.headers["server"])

            let parts = probe.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            let facts = RequestFacts(
                path: String(parts[0]), method: probe.method, remoteIP: remote,
                query: parts.count > 1 ? String(parts[1]) : "", headers: probe.headers,
                serverSocket: sockets[probe.socket])
            let chosen = Dictionary(uniqueKeysWithValues: config.directives(for: facts).map { ($0.key, $0.value) })
            var block: String?
            if case .list(let entries) = chosen["setenv.set-response-header"],
                case .string(let value) = entries.first(where: { $0.key == "X-Block" })?.value
            {
                block = value
            }
            var tag = "lighttpd/1.4.69"
            if case .string(let value) = chosen["server.tag"] { tag = value }
            #expect(
                block == theirs.block && tag == theirs.tag,
                "\(probe.testDescription): lighttpd applied \(theirs), the reader \((block, tag))")
            seen.insert("\(theirs.block ?? "-") \(theirs.tag ?? "-")")
        }
        // The probes exercise many different outcomes, not one answer everywhere.
        #expect(seen.count >= 25, "\(seen.sorted())")
    }
}
