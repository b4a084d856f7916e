import ArgumentParser
import Foundation
import GatehouseCore
import LighttpdConfig

/// `gatehouse check`: what lighttpd with mod_gatehouse would decide for one request.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decide one request offline, exactly as lighttpd with mod_gatehouse would.")

    @Option(help: "The lighttpd.conf to read.") var config: String
    @Option(help: "The request path (as lighttpd normalises it).") var path: String
    @Option(help: "The request method.") var method: String = "GET"
    @Option(help: "The Host header.") var host: String = "localhost"
    @Option(help: "The client's address.") var remoteIP: String = "127.0.0.1"
    @Option(help: "The query string (after '?').") var query: String = ""
    @Option(help: "The scheme: http or https.") var scheme: String = "http"
    @Option(help: "The address:port the request arrived on, for $SERVER[\"socket\"].") var serverSocket: String?
    @Option(help: "A request header, \"Name: value\" (repeatable).") var header: [String] = []
    @Option(help: "A bearer token, or - to read it from standard input.") var token: String?
    @Option(help: "Claims as JSON, taken as verified (no keys needed: for policy tests).") var claims: String?
    @Flag(help: "No token.") var anonymous = false
    @Option(help: "Unix time to decide at (default: now).") var now: Int64?
    @Flag(help: "Run include_shell commands of the configuration.") var allowShell = false
    @Flag(help: "Machine-readable output.") var json = false

    func validate() throws {
        if [token != nil, claims != nil, anonymous].filter({ $0 }).count != 1 {
            throw ValidationError("give exactly one of --token, --claims or --anonymous")
        }
    }

    func run() throws {
        let policy = try PolicyConfig(path: config, allowShell: allowShell)
        var headers = [(name: String, value: String)]()
        for line in header {
            guard let colon = line.firstIndex(of: ":") else { throw UsageError("--header: expected \"Name: value\"") }
            headers.append(
                (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        if let token { headers.append(("Authorization", "Bearer " + (try TokenInput.read(token)))) }
        var presented: JSONObject?
        if let claims {
            guard case .success(.object(let object)) = JSON.parse(Array(claims.utf8)) else {
                throw UsageError("--claims: expected a JSON object")
            }
            presented = object
        }
        let request = RequestCase(
            method: method, path: path, host: host, remoteIP: remoteIP, query: query, scheme: scheme,
            serverSocket: serverSocket, headers: headers)
        let outcome = try request.decide(
            with: policy, presented: presented,
            now: now ?? Int64(Date().timeIntervalSince1970))
        print(json ? outcome.json.serialized : outcome.text)
        if !outcome.allowed { throw ExitCode(1) }
    }
}

/// One request, as `check` and `test` describe it.
struct RequestCase {
    var method: String
    var path: String
    var host: String
    var remoteIP: String
    var query: String = ""
    var scheme: String = "http"
    var serverSocket: String?
    var headers: [(name: String, value: String)]

    func decide(with policy: PolicyConfig, presented: JSONObject?, now: Int64) throws -> Outcome {
        var facts = RequestFacts(path: path, host: host, method: method, remoteIP: remoteIP, query: query)
        facts.scheme = scheme
        facts.headers = headers
        facts.serverSocket = serverSocket
        let configuration = try policy.configuration(for: facts)
        let headers = self.headers
        let request = HTTPRequest(method: method, path: path, host: host, remoteIP: remoteIP, query: query) { name in
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
        let decision = Gate.decide(request, configuration: configuration, now: now, presented: presented)
        return Outcome(decision: decision)
    }
}

/// A decision as the CLI shows it. No decision: the module does nothing there (allowed).
struct Outcome {
    let decision: Decision?

    var allowed: Bool { decision?.allowed ?? true }

    var json: JSON {
        guard let decision else {
            return .object(
                JSONObject(members: [
                    ("decision", .string("allow")), ("status", .integer(0)), ("rule", .null),
                    ("reason", .string("not_guarded")),
                    ("explanation", .array([.string("no gatehouse.require applies here: mod_gatehouse does nothing")])),
                    ("headers", .object(JSONObject(members: []))), ("env", .object(JSONObject(members: []))),
                ]))
        }
        var members: [(key: String, value: JSON)] = [
            ("decision", .string(decision.allowed ? "allow" : "deny")), ("status", .integer(Int64(decision.status))),
            ("rule", .string(decision.rule)), ("reason", .string(decision.reason.rawValue)),
            ("explanation", .array((decision.explanation ?? []).map(JSON.string))),
            ("headers", .object(JSONObject(members: decision.requestHeaders.map { ($0.name, .string($0.value)) }))),
            ("env", .object(JSONObject(members: decision.environment.map { ($0.name, .string($0.value)) }))),
        ]
        if let challenge = decision.wwwAuthenticate { members.append(("www_authenticate", .string(challenge))) }
        if let status = decision.wouldRefuse { members.append(("report_only_status", .integer(Int64(status)))) }
        return .object(JSONObject(members: members))
    }

    var text: String {
        guard let decision else { return "allow: no gatehouse.require applies here (mod_gatehouse does nothing)" }
        var lines = [
            decision.allowed
                ? "allow (rule \(decision.rule))"
                : "deny \(decision.status) \(decision.reason.rawValue) (rule \(decision.rule))"
        ]
        lines += (decision.explanation ?? []).map { "  - \($0)" }
        lines += decision.requestHeaders.map { "  header \($0.name): \($0.value)" }
        lines += decision.environment.map { "  env \($0.name)=\($0.value)" }
        if let challenge = decision.wwwAuthenticate { lines.append("  WWW-Authenticate: \(challenge)") }
        return lines.joined(separator: "\n")
    }
}
