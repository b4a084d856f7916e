import ArgumentParser
import Foundation
import GatehouseCore

/// `gatehouse test`: a file of requests with the decisions they must get.
struct TestCases: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Check a JSON file of requests against the decisions they must get.",
        discussion: """
            docs/policy-tests.md has a complete cases file and describes coverage.
            CASES.json is {"cases": [CASE, ...]} (or a bare list). A CASE:
              {"name": "...",
               "request": {"method": "GET", "path": "/api/x?a=1", "query": "b=2",
                           "host": "h:8080", "remote_ip": "10.0.0.1",
                           "scheme": "https", "server_socket": ":443",
                           "headers": {"X-Name": "v", "Cookie": ["a=1", "b=2"]}},
               "token": "eyJ..." | "claims": {...} | "anonymous": true,
               "now": 1700000000,
               "expect": {"decision": "allow"|"deny", "status": 403,
                          "reason": "policy_denied", "rule": "/api/",
                          "headers": {"X-Auth-Subject": "alice", "X-Auth-Email": null},
                          "env": {"AUTH_USER": "alice"},
                          "www_authenticate": "Bearer realm=\\"localhost\\""}}
            The request is the one a client sends, parsed as lighttpd parses it
            (see gatehouse help check). "path" is the request-target as sent,
            percent-encoded, and may carry the query; "query" is appended after
            a "?". "headers" is an object (a list value sends the field once per
            element) or a list of ["Name", "value"] pairs, in the order sent;
            "host" is the Host header unless "headers" has one. "token" is sent
            as "Authorization: Bearer TOKEN"; "claims" are taken as verified (no
            keys needed); "anonymous" says the request carries no token (a case
            that still has one fails).
            A key the format does not have is an error naming the closest one.
            Only "decision" is required in "expect"; a header or env variable
            expected null must be absent. "status" is 0 for a request
            let through, 400 for one lighttpd refuses before any module (reason
            "rejected_by_lighttpd"). "www_authenticate" is the challenge header
            of the answer (null: none). Key and secret files that cannot be read
            are warnings; a case whose token needs them fails and says so.
            With --url, each case is sent as a real request to a running server
            instead: tokens are minted from "claims" with --signing-key (with the
            issuer, audience, token type and token source of --config), and the
            decision, "status" and "www_authenticate" are compared with the
            answer (400, 401, 403, 429, 503 and 504 are refusals). "reason", "rule",
            "headers" and "env" cannot be seen from outside: -v lists them as not
            checked live. A case that names a client address other than
            127.0.0.1, a scheme other than http or a server socket is skipped,
            and says so; docs/policy-tests.md has the details.
            """)

    @Option(help: "The lighttpd.conf to read (with --url: the one the minted tokens are made for).")
    var config: String?
    @Argument(help: "The cases file.") var cases: String
    @Option(help: "Unix time for cases without \"now\" (default: now).") var now: Int64?
    @Option(help: "NAME=VALUE: replaces the configuration's var.NAME (repeatable).") var define: [String] = []
    @Flag(help: "Run include_shell commands of the configuration.") var allowShell = false
    @Flag(help: "Machine-readable output: every case with its outcome.") var json = false
    @Flag(name: [.short, .customLong("verbose")], help: "List every case with PASS or FAIL.") var verbose = false
    @Option(name: .customLong("run"), help: "Run only the cases whose name this regular expression finds.")
    var only: String?
    @Option(help: "Also write the results as JUnit XML to this file, for CI.") var junit: String?
    @Flag(
        help: """
            Per gatehouse.require rule of every context, whether a case chose it, and per operand of \
            an and / or, whether it was both true and false in some case.
            """)
    var coverage = false
    @Option(help: "Send each case to the server at this http://host[:port] instead of deciding it offline.")
    var url: String?
    @Option(help: "With --url: the private key (gatehouse dev key) that signs tokens minted from \"claims\".")
    var signingKey: String?
    @Option(parsing: .unconditional, help: "With --url: the minted tokens' \"kid\" (default: the key's thumbprint).")
    var kid: String?  // a thumbprint may begin with "-" (base64url)
    @Option(help: "With --url: seconds to wait for each answer (1 to 300; default: 10).") var timeout: Int?

    func validate() throws {
        if url == nil {
            if config == nil { throw ValidationError("give --config (or --url to test a running server)") }
            if signingKey != nil || kid != nil || timeout != nil {
                throw ValidationError("--signing-key, --kid and --timeout go with --url")
            }
        } else {
            if signingKey == nil { throw ValidationError("--url needs --signing-key (tokens are minted from claims)") }
            if coverage { throw ValidationError("--coverage is offline only: the server records no coverage") }
        }
        if let timeout, !(1...300).contains(timeout) {
            throw ValidationError("--timeout must be 1 to 300 seconds")
        }
    }

    func run() throws {
        let policy = try config.map {
            try LoadedConfig(path: $0, allowShell: allowShell, defines: define, offline: true)
        }
        let live = try url.map {
            try LiveCases(
                url: $0, signingKey: signingKey ?? "", kid: kid, policy: policy, now: now, timeout: timeout ?? 10)
        }
        guard let data = FileManager.default.contents(atPath: cases),
            case .success(let document) = JSON.parse(Array(data))
        else {
            throw UsageError("\(cases): not a readable JSON file")
        }
        let list: [JSON]
        switch document {
        case .array(let elements): list = elements
        case .object(let object):
            guard case .array(let elements)? = object["cases"] else { throw UsageError("\(cases): no \"cases\" list") }
            list = elements
        default: throw UsageError("\(cases): expected {\"cases\": [...]}")
        }
        let filter: NSRegularExpression?
        do { filter = try only.map { try NSRegularExpression(pattern: $0) } } catch {
            throw UsageError("--run: \"\(only ?? "")\" is not a regular expression")
        }
        var passed = 0
        var filtered = 0
        var skipped = 0
        var results = [JSON]()
        var report = JUnitReport(suite: cases)
        let exercised = PolicyCoverage()
        for (index, element) in list.enumerated() {
            guard case .object(let test) = element else {
                throw UsageError("\(cases): case \(index + 1) is not an object")
            }
            let name = test["name"]?.stringValue ?? "case \(index + 1)"
            try CaseKeys.check(test, name: name)
            if let filter, filter.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) == nil {
                filtered += 1
                continue
            }
            var members: [(key: String, value: JSON)] = [("name", .string(name))]
            var problems: [String]
            var notChecked = [String]()
            if let live {
                let result = try live.run(test, name: name)
                members += result.json
                if let reason = result.skipped {
                    skipped += 1
                    report.add(name: name, skipped: reason)
                    if json {
                        members += [("passed", .bool(false)), ("problems", .array([]))]
                        results.append(.object(JSONObject(members: members)))
                    } else {
                        print("SKIP \(name): \(reason)")
                    }
                    continue
                }
                (problems, notChecked) = (result.problems, result.notChecked)
            } else {
                do {
                    // validate(): without --url, --config is required.
                    let decided = try decide(test, name: name, policy: policy!, coverage: exercised)
                    members.append(("outcome", decided.json))
                    problems = try compare(decided, with: test, name: name)
                } catch let problem as RequestCase.Problem {
                    problems = [problem.description]
                }
            }
            if problems.isEmpty { passed += 1 }
            report.add(name: name, problems: problems)
            if json {
                members += [("passed", .bool(problems.isEmpty)), ("problems", .array(problems.map(JSON.string)))]
                results.append(.object(JSONObject(members: members)))
            } else if !problems.isEmpty {
                print("FAIL \(name): " + problems.joined(separator: "; "))
            } else if verbose {
                print("PASS \(name)")
            }
            if verbose && !json && !notChecked.isEmpty {
                print("  not checked live: " + notChecked.joined(separator: ", "))
            }
        }
        let failed = list.count - filtered - skipped - passed
        if let junit {
            guard FileManager.default.createFile(atPath: junit, contents: Data(report.xml.utf8)) else {
                throw UsageError("--junit: cannot write \(junit)")
            }
        }
        if json {
            print(
                JSON.object(
                    JSONObject(members: [
                        ("passed", .integer(Int64(passed))), ("failed", .integer(Int64(failed))),
                        ("skipped", .integer(Int64(skipped))), ("cases", .array(results)),
                    ])
                ).serialized)
        } else {
            print(
                "\(passed) passed, \(failed) failed" + (skipped > 0 ? ", \(skipped) skipped" : "")
                    + (filtered > 0 ? ", \(filtered) not matching --run" : ""))
        }
        if coverage && !json, let policy {
            let (lines, gaps) = try exercised.report(policy)
            print("coverage:")
            for line in lines { print(line) }
            print(
                gaps == 0
                    ? "coverage: every rule chosen, every and / or operand both true and false"
                    : "coverage: \(gaps) gap\(gaps == 1 ? "" : "s") (NOT CHOSEN or NEVER above)")
        }
        if failed > 0 { throw ExitCode(1) }
    }

    /// The case's request as a client sends it (`token` sent as "Authorization: Bearer").
    static func request(_ test: JSONObject, name: String) throws -> RequestCase {
        func string(_ object: JSONObject?, _ key: String, _ fallback: String) -> String {
            object?[key]?.stringValue ?? fallback
        }
        let request = test["request"]?.objectValue
        var headers = try headers(request?["headers"], name: name)
        if let token = test["token"]?.stringValue { headers.append(("Authorization", "Bearer " + token)) }
        let query = string(request, "query", "")
        return RequestCase(
            method: string(request, "method", "GET"),
            target: string(request, "path", "/") + (query.isEmpty ? "" : "?" + query),
            host: string(request, "host", "localhost"), remoteIP: string(request, "remote_ip", "127.0.0.1"),
            scheme: string(request, "scheme", "http"), serverSocket: request?["server_socket"]?.stringValue,
            headers: headers, presented: test["claims"]?.objectValue,
            anonymous: test["anonymous"].map { $0.serialized == "true" } ?? false)
    }

    /// The Unix time a case is decided at: its "now", else --now; nil: the clock.
    static func time(of test: JSONObject, default now: Int64?) -> Int64? {
        if case .integer(let value)? = test["now"] { return value }
        return now
    }

    private func decide(
        _ test: JSONObject, name: String, policy: LoadedConfig, coverage exercised: PolicyCoverage
    ) throws -> Outcome {
        let time = Self.time(of: test, default: now) ?? Int64(Date().timeIntervalSince1970)
        return try Self.request(test, name: name).decide(
            with: policy, now: time, coverage: coverage ? exercised.recorder : nil)
    }

    /// `{"Name": "value", "Name2": ["v1", "v2"]}` or `[["Name", "value"], ...]`, in the order given.
    private static func headers(_ value: JSON?, name: String) throws -> [(name: String, value: String)] {
        let bad = UsageError(
            "\(name): \"headers\" must map names to strings or lists of strings, "
                + "or list [\"Name\", \"value\"] pairs")
        switch value {
        case nil: return []
        case .object(let object)?:
            return try object.members.flatMap { member -> [(name: String, value: String)] in
                switch member.value {
                case .string(let text): return [(member.key, text)]
                case .array(let values):
                    return try values.map { value in
                        guard let text = value.stringValue else { throw bad }
                        return (member.key, text)
                    }
                default: throw bad
                }
            }
        case .array(let pairs)?:
            return try pairs.map { pair in
                guard case .array(let parts) = pair, parts.count == 2, let field = parts[0].stringValue,
                    let text = parts[1].stringValue
                else { throw bad }
                return (field, text)
            }
        default: throw bad
        }
    }

    /// What differs from the expectation; empty when the case passes.
    private func compare(_ outcome: Outcome, with test: JSONObject, name: String) throws -> [String] {
        guard let expect = test["expect"]?.objectValue, let decision = expect["decision"]?.stringValue else {
            throw UsageError("\(name): \"expect\" needs a \"decision\"")
        }
        guard case .object(let got) = outcome.json else { return ["no outcome"] }
        var problems = [String]()
        if got["decision"]?.stringValue != decision {
            problems.append("expected \(decision), got \(got["decision"]?.stringValue ?? "?")")
        }
        for key in ["status", "reason", "rule"] {
            if let wanted = expect[key], wanted.serialized != got[key]?.serialized {
                problems.append("expected \(key) \(wanted.serialized), got \(got[key]?.serialized ?? "none")")
            }
        }
        if let wanted = expect["www_authenticate"], wanted.serialized != (got["www_authenticate"] ?? .null).serialized {
            problems.append(
                "expected www_authenticate \(wanted.serialized), got \((got["www_authenticate"] ?? .null).serialized)")
        }
        for (field, what) in [("headers", "header"), ("env", "env")] {
            for member in expect[field]?.objectValue?.members ?? [] {
                let actual = got[field]?.objectValue?[member.key]
                if case .null = member.value {
                    if let actual { problems.append("expected no \(what) \(member.key), got \(actual.serialized)") }
                } else if actual?.serialized != member.value.serialized {
                    problems.append(
                        "expected \(what) \(member.key) \(member.value.serialized), got "
                            + (actual?.serialized ?? "none"))
                }
            }
        }
        if !problems.isEmpty, let reason = got["reason"]?.stringValue, let rule = got["rule"]?.serialized {
            problems.append("(reason \(reason), rule \(rule))")
        }
        return problems
    }
}
