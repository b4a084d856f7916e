import ArgumentParser
import Foundation
import GatehouseCore

/// `gatehouse test`: a file of requests with the decisions they must get.
struct TestCases: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Check a JSON file of requests against the decisions they must get.",
        discussion: """
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
                          "headers": {"X-Auth-Subject": "alice"}}}
            The request is the one a client sends, parsed as lighttpd parses it
            (see gatehouse help check). "path" is the request-target as sent,
            percent-encoded, and may carry the query; "query" is appended after
            a "?". "headers" is an object (a list value sends the field once per
            element) or a list of ["Name", "value"] pairs, in the order sent;
            "host" is the Host header unless "headers" has one. "token" is sent
            as "Authorization: Bearer TOKEN"; "claims" are taken as verified (no
            keys needed); "anonymous" says the request carries no token (a case
            that still has one fails).
            Only "decision" is required in "expect". "status" is 0 for a request
            let through, 400 for one lighttpd refuses before any module (reason
            "rejected_by_lighttpd"). Key and secret files that cannot be read are
            warnings; a case whose token needs them fails and says so.
            """)

    @Option(help: "The lighttpd.conf to read.") var config: String
    @Argument(help: "The cases file.") var cases: String
    @Option(help: "Unix time for cases without \"now\" (default: now).") var now: Int64?
    @Option(help: "NAME=VALUE: replaces the configuration's var.NAME (repeatable).") var define: [String] = []
    @Flag(help: "Run include_shell commands of the configuration.") var allowShell = false
    @Flag(help: "Machine-readable output: every case with its outcome.") var json = false

    func run() throws {
        let policy = try LoadedConfig(path: config, allowShell: allowShell, defines: define, offline: true)
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
        var passed = 0
        var results = [JSON]()
        for (index, element) in list.enumerated() {
            guard case .object(let test) = element else {
                throw UsageError("\(cases): case \(index + 1) is not an object")
            }
            let name = test["name"]?.stringValue ?? "case \(index + 1)"
            var outcome: Outcome?
            var problems: [String]
            do {
                let decided = try decide(test, name: name, policy: policy)
                outcome = decided
                problems = try compare(decided, with: test, name: name)
            } catch let problem as RequestCase.Problem {
                problems = [problem.description]
            }
            if problems.isEmpty { passed += 1 }
            if json {
                var members: [(key: String, value: JSON)] = [
                    ("name", .string(name)), ("passed", .bool(problems.isEmpty)),
                    ("problems", .array(problems.map(JSON.string))),
                ]
                if let outcome { members.append(("outcome", outcome.json)) }
                results.append(.object(JSONObject(members: members)))
            } else if !problems.isEmpty {
                print("FAIL \(name): " + problems.joined(separator: "; "))
            }
        }
        let failed = list.count - passed
        if json {
            print(
                JSON.object(
                    JSONObject(members: [
                        ("passed", .integer(Int64(passed))), ("failed", .integer(Int64(failed))),
                        ("cases", .array(results)),
                    ])
                ).serialized)
        } else {
            print("\(passed) passed, \(failed) failed")
        }
        if failed > 0 { throw ExitCode(1) }
    }

    private func decide(_ test: JSONObject, name: String, policy: LoadedConfig) throws -> Outcome {
        func string(_ object: JSONObject?, _ key: String, _ fallback: String) -> String {
            object?[key]?.stringValue ?? fallback
        }
        let request = test["request"]?.objectValue
        var headers = try Self.headers(request?["headers"], name: name)
        if let token = test["token"]?.stringValue { headers.append(("Authorization", "Bearer " + token)) }
        let time: Int64 =
            if case .integer(let value)? = test["now"] { value } else {
                now ?? Int64(Date().timeIntervalSince1970)
            }
        let query = string(request, "query", "")
        let requestCase = RequestCase(
            method: string(request, "method", "GET"),
            target: string(request, "path", "/") + (query.isEmpty ? "" : "?" + query),
            host: string(request, "host", "localhost"), remoteIP: string(request, "remote_ip", "127.0.0.1"),
            scheme: string(request, "scheme", "http"), serverSocket: request?["server_socket"]?.stringValue,
            headers: headers, presented: test["claims"]?.objectValue,
            anonymous: test["anonymous"].map { $0.serialized == "true" } ?? false)
        return try requestCase.decide(with: policy, now: time)
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
            if let wanted = expect[key], let actual = got[key], wanted.serialized != actual.serialized {
                problems.append("expected \(key) \(wanted.serialized), got \(actual.serialized)")
            }
        }
        for member in expect["headers"]?.objectValue?.members ?? [] {
            let actual = got["headers"]?.objectValue?[member.key]
            if actual?.serialized != member.value.serialized {
                problems.append(
                    "expected header \(member.key) \(member.value.serialized), got "
                        + (actual?.serialized ?? "none"))
            }
        }
        if !problems.isEmpty, let reason = got["reason"]?.stringValue, let rule = got["rule"]?.serialized {
            problems.append("(reason \(reason), rule \(rule))")
        }
        return problems
    }
}
