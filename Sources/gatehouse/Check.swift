import ArgumentParser
import Foundation
import GatehouseCore
import LighttpdConfig

/// `gatehouse check`: what lighttpd with mod_gatehouse would decide for one request.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decide one request offline, exactly as lighttpd with mod_gatehouse would.",
        discussion: """
            The request is taken as a client sends it and parsed as lighttpd parses it: the path \
            percent-decoded with its dot segments resolved, the query normalised, repeated headers joined, \
            empty ones dropped, the Host lower-cased without a trailing dot or default port. A request \
            lighttpd itself refuses is shown as its status (400; 411 for a POST that gives no Content-Length, \
            which a client posting no body sends as 0; 501). Key, secret and audit files that cannot be read \
            are warnings: --claims and --anonymous need none; --token needs the keys (see --define).
            """)

    @Option(help: "The lighttpd.conf to read.") var config: String
    @Option(help: "The request path as the client sends it (percent-encoded; may end in ?QUERY).") var path: String
    @Option(help: "The request method.") var method: String = "GET"
    @Option(help: "The Host header (unless a --header gives one).") var host: String = "localhost"
    @Option(help: "The client's address.") var remoteIP: String = "127.0.0.1"
    @Option(help: "The query string (after '?'), as the client sends it.") var query: String = ""
    @Option(help: "The scheme: http or https.") var scheme: String = "http"
    @Option(help: "The address:port the request arrived on, for $SERVER[\"socket\"].") var serverSocket: String?
    @Option(help: "A request header, \"Name: value\" (repeatable; a name given twice is sent twice).")
    var header: [String] = []
    @Option(help: "A bearer token (sent as Authorization: Bearer), or - to read it from standard input.")
    var token: String?
    @Option(help: "Claims as JSON, taken as verified (no keys needed: for policy tests).") var claims: String?
    @Flag(help: "No credentials: an error if the request still carries a token (in a --header).") var anonymous = false
    @Option(
        parsing: .unconditional,  // a sealed value may begin with "-" (base64url)
        help: "A browser session cookie's value (__Host-gatehouse), opened with --session-key-file.")
    var sessionCookie: String?
    @Option(help: "The key file that opens --session-cookie (gatehouse.session-key-file).") var sessionKeyFile: String?
    @Option(help: "NAME=VALUE: replaces the configuration's var.NAME (repeatable).") var define: [String] = []
    @Option(help: "Unix time to decide at (default: now).") var now: Int64?
    @Flag(help: "Run include_shell commands of the configuration.") var allowShell = false
    @Flag(help: "Machine-readable output.") var json = false

    func validate() throws {
        if [token != nil, claims != nil, anonymous, sessionCookie != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give at most one of --token, --claims, --session-cookie or --anonymous")
        }
        if (sessionCookie == nil) != (sessionKeyFile == nil) {
            throw ValidationError("--session-cookie and --session-key-file go together")
        }
    }

    func run() throws {
        let policy = try LoadedConfig(path: config, allowShell: allowShell, defines: define, offline: true)
        var headers = [(name: String, value: String)]()
        for line in header {
            guard let colon = line.firstIndex(of: ":") else { throw UsageError("--header: expected \"Name: value\"") }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        if let token { headers.append(("Authorization", "Bearer " + (try TokenInput.read(token)))) }
        var presented: JSONObject?
        if let claims {
            guard case .success(.object(let object)) = JSON.parse(Array(claims.utf8)) else {
                throw UsageError("--claims: expected a JSON object")
            }
            presented = object
        }
        let at = now ?? Int64(Date().timeIntervalSince1970)
        if let sessionCookie, let sessionKeyFile {
            presented = try Self.session(sessionCookie, keyFile: sessionKeyFile, now: at)
            if presented != nil, !["GET", "HEAD", "OPTIONS"].contains(method), !Self.sameOrigin(headers, host, scheme) {
                print("deny 403: a session cookie from another origin (Origin or Sec-Fetch-Site is not this site's)")
                throw ExitCode(1)
            }
        }
        let request = RequestCase(
            method: method, target: path + (query.isEmpty ? "" : "?" + query), host: host, remoteIP: remoteIP,
            scheme: scheme, serverSocket: serverSocket, headers: headers, presented: presented, anonymous: anonymous)
        let outcome: Outcome
        do {
            outcome = try request.decide(with: policy, now: at)
        } catch let problem as RequestCase.Problem {
            throw UsageError(problem.description)
        }
        print(json ? outcome.json.serialized : outcome.text)
        if !outcome.allowed { throw ExitCode(1) }
    }
}

extension Check {
    /// The claims of a session cookie, as the module reads them; nil (and why, on standard error)
    /// when it does not open or has ended: the module then decides as without a session.
    static func session(_ cookie: String, keyFile: String, now: Int64) throws -> JSONObject? {
        let keys: SessionKeys
        do { keys = try SessionKeys.load(path: keyFile) } catch { throw UsageError(error.description) }
        guard let session = SessionContents.open(try SessionCookie.value(cookie), keys: keys) else {
            FileHandle.standardError.write(Data("gatehouse: the session cookie does not open with \(keyFile)\n".utf8))
            return nil
        }
        if let ended = session.ended(now: now) {
            FileHandle.standardError.write(Data("gatehouse: \(ended)\n".utf8))
            return nil
        }
        return session.claims
    }

    /// Whether a state-changing request comes from the site's own origin (the module's check).
    static func sameOrigin(_ headers: [(name: String, value: String)], _ host: String, _ scheme: String) -> Bool {
        func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
                .trimmingCharacters(in: .whitespaces)
        }
        let request = HTTPRequest(method: "POST", path: "/", host: header("Host") ?? host, remoteIP: "", header: header)
        return SignIn.sameOrigin(request, scheme: scheme)
    }
}

/// One request, as `check` and `test` describe it: as the client sends it.
struct RequestCase {
    var method: String
    /// The request-target: path and query, percent-encoded as sent.
    var target: String
    /// The Host header, unless `headers` has one.
    var host: String
    var remoteIP: String
    var scheme: String = "http"
    var serverSocket: String?
    var headers: [(name: String, value: String)]
    /// Claims taken as verified instead of a token.
    var presented: JSONObject?
    /// The case says the request carries no credentials.
    var anonymous = false

    /// A case that cannot be decided as described.
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// The one reading of the request, as lighttpd reads it: conditions and the decision both use these
    /// facts. mod_rewrite runs first; the request is then parsed again and conditions evaluated anew,
    /// and the module decides the path the client asked for too (`originalPath`, when rewritten).
    /// Throws RequestRejected for a request lighttpd answers itself.
    func read(with policy: LoadedConfig) throws -> (facts: RequestFacts, originalPath: String?) {
        var fields = headers
        if !fields.contains(where: { $0.name.caseInsensitiveCompare("Host") == .orderedSame }) {
            fields.insert(("Host", host), at: 0)
        }
        var client = ClientRequest(
            method: method, target: target, headers: fields, remoteIP: remoteIP, scheme: scheme,
            serverSocket: serverSocket)
        var facts = try RequestFacts(parsing: client)
        do {
            guard let rewritten = try policy.config.rewrittenTarget(for: facts) else { return (facts, nil) }
            let originalPath = facts.path
            client.target = rewritten
            facts = try RequestFacts(parsing: client)
            return (facts, originalPath)
        } catch let unsupported as LighttpdConfig.RewriteUnsupported {
            throw Problem(description: unsupported.description)
        }
    }

    /// `coverage`: the recorder for the gatehouse.require at a place (`gatehouse test --coverage`).
    func decide(
        with policy: LoadedConfig, now: Int64, coverage: ((SourceLocation) -> Coverage)? = nil
    ) throws -> Outcome {
        let facts: RequestFacts
        let originalPath: String?
        do {
            (facts, originalPath) = try read(with: policy)
        } catch let rejected as RequestRejected {
            return Outcome(decision: nil, effects: nil, rejected: rejected)
        }
        let configuration = try policy.configuration(for: facts)
        let parsed = facts
        let request = HTTPRequest(
            method: facts.method, path: facts.path, originalPath: originalPath, host: facts.authority,
            remoteIP: facts.remoteIP, query: facts.query,
            lowercasePaths: policy.config.enabled("server.force-lowercase-filenames", for: facts),
            header: { parsed.header($0) }, headerCount: { parsed.cgiCount($0) })
        let recorder = coverage.flatMap { pick in policy.requireLocation(for: facts).map(pick) }
        let decision = Gate.decide(
            request, configuration: configuration, now: now, presented: presented.map(VerifiedClaims.init),
            coverage: recorder)
        if decision?.token != nil {
            if anonymous {
                throw Problem(
                    description: "anonymous, but the request carries a token: drop --anonymous to decide with it")
            }
            let unreadable = configuration.unreadableKeys
            if !unreadable.isEmpty {
                throw Problem(
                    description: "the request's token needs real signature verification, but "
                        + unreadable.joined(separator: " and ") + " cannot be read here: give the key file "
                        + "(--define NAME=PATH for the var. the configuration uses), or decide with claims")
            }
        }
        // What the module would do with the decision: the same Effects it applies.
        let effects = decision.map {
            Effects(
                of: $0, request: request, configuration: configuration, time: (now, 0),
                statusPage: { "(the counters of the lighttpd process)" })
        }
        return Outcome(decision: decision, effects: effects)
    }
}

/// A decision as the CLI shows it. No decision: the module does nothing there (allowed).
struct Outcome {
    let decision: Decision?
    /// What the module would do: headers, environment, the audit record, log lines.
    let effects: Effects?
    /// lighttpd answers the request itself (400) before mod_gatehouse sees it.
    var rejected: RequestRejected?

    var allowed: Bool { rejected == nil && decision?.verdict.allowed ?? true }

    var json: JSON {
        if let rejected {
            return .object(
                JSONObject(members: [
                    ("decision", .string("deny")), ("status", .integer(Int64(rejected.status))), ("rule", .null),
                    ("reason", .string("rejected_by_lighttpd")),
                    ("explanation", .array([.string(rejected.description)])),
                    ("headers", .object(JSONObject(members: []))), ("env", .object(JSONObject(members: []))),
                ]))
        }
        guard let decision, let effects else {
            return .object(
                JSONObject(members: [
                    ("decision", .string("allow")), ("status", .integer(0)), ("rule", .null),
                    ("reason", .string("not_guarded")),
                    ("explanation", .array([.string("no gatehouse.require applies here: mod_gatehouse does nothing")])),
                    ("headers", .object(JSONObject(members: []))), ("env", .object(JSONObject(members: []))),
                ]))
        }
        var members: [(key: String, value: JSON)] = [
            ("decision", .string(decision.verdict.allowed ? "allow" : "deny")),
            ("status", .integer(Int64(decision.verdict.status))),
            ("rule", .string(decision.verdict.rule)), ("reason", .string(decision.verdict.reason.rawValue)),
            ("explanation", .array((decision.diagnostics.explanation ?? []).map(JSON.string))),
            ("headers", .object(JSONObject(members: effects.requestHeaders.map { ($0.name, .string($0.value)) }))),
            ("env", .object(JSONObject(members: effects.environment.map { ($0.name, .string($0.value)) }))),
            ("outcome", .string(Outcome.name(effects.outcome))),
            ("strip_headers", .array((effects.stripHeaders + effects.stripAliases).map(JSON.string))),
            (
                "response_headers",
                .array(effects.responseHeaders.map { .array([.string($0.name), .string($0.value)]) })
            ),
            ("audit", Outcome.audit(effects)),
            ("log", .array(effects.logs.filter { $0.level != .debug }.map { .string($0.message) })),
        ]
        if let challenge = decision.verdict.wwwAuthenticate { members.append(("www_authenticate", .string(challenge))) }
        if let status = decision.diagnostics.wouldRefuse {
            members.append(("report_only_status", .integer(Int64(status))))
        }
        return .object(JSONObject(members: members))
    }

    private static func name(_ outcome: Effects.Outcome) -> String {
        switch outcome {
        case .pass: "pass"
        case .answer: "answer"
        case .refuse: "refuse"
        }
    }

    /// The audit record the module would write (without its chain, which depends on the file), and where.
    private static func audit(_ effects: Effects) -> JSON {
        guard let audit = effects.audit, case .success(let record) = JSON.parse(Array(audit.record.utf8)) else {
            return .null
        }
        return .object(JSONObject(members: [("target", .string(audit.target)), ("record", record)]))
    }

    var text: String {
        if let rejected { return "deny \(rejected.status) (\(rejected.description))" }
        guard let decision, let effects else {
            return "allow: no gatehouse.require applies here (mod_gatehouse does nothing)"
        }
        var lines = [
            decision.verdict.allowed
                ? "allow (rule \(decision.verdict.rule))"
                : "deny \(decision.verdict.status) \(decision.verdict.reason.rawValue) (rule \(decision.verdict.rule))"
        ]
        lines += (decision.diagnostics.explanation ?? []).map { "  - \($0)" }
        lines += effects.requestHeaders.map { "  header \($0.name): \($0.value)" }
        lines += effects.environment.map { "  env \($0.name)=\($0.value)" }
        lines += effects.responseHeaders.map { header in
            "  \(header.name == "WWW-Authenticate" ? "" : "response header ")\(header.name): \(header.value)"
        }
        if let audit = effects.audit { lines.append("  audit to \(audit.target): \(audit.record)") }
        lines += effects.logs.filter { $0.level != .debug }.map { "  log: \($0.message)" }
        return lines.joined(separator: "\n")
    }
}
