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
              {"name": "...", "request": {"method": "GET", "path": "/api/x", "host": "h", "remote_ip": "10.0.0.1", "query": "a=1",
               "headers": {"X-Name": "value"}},
               "token": "eyJ..." | "claims": {...} | "anonymous": true,
               "now": 1700000000,
               "expect": {"decision": "allow"|"deny", "status": 403, "reason": "policy_denied",
                          "rule": "/api/", "headers": {"X-Auth-Subject": "alice"}}}
            Only "decision" is required in "expect". "status" is 0 for a request let through.
            """)

    @Option(help: "The lighttpd.conf to read.") var config: String
    @Argument(help: "The cases file.") var cases: String
    @Option(help: "Unix time for cases without \"now\" (default: now).") var now: Int64?
    @Flag(help: "Run include_shell commands of the configuration.") var allowShell = false

    func run() throws {
        let policy = try PolicyConfig(path: config, allowShell: allowShell)
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
        var failed = 0
        for (index, element) in list.enumerated() {
            guard case .object(let test) = element else {
                throw UsageError("\(cases): case \(index + 1) is not an object")
            }
            let name = test["name"]?.stringValue ?? "case \(index + 1)"
            let problems = try check(test, name: name, policy: policy)
            if problems.isEmpty {
                passed += 1
            } else {
                failed += 1
                print("FAIL \(name): " + problems.joined(separator: "; "))
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }

    /// What differs from the expectation; empty when the case passes.
    private func check(_ test: JSONObject, name: String, policy: PolicyConfig) throws -> [String] {
        func string(_ object: JSONObject?, _ key: String, _ fallback: String) -> String {
            object?[key]?.stringValue ?? fallback
        }
        let request = test["request"]?.objectValue
        var headers = (request?["headers"]?.objectValue?.members ?? []).compactMap { member in
            member.value.stringValue.map { (name: member.key, value: $0) }
        }
        if let token = test["token"]?.stringValue { headers.append(("Authorization", "Bearer " + token)) }
        let presented = test["claims"]?.objectValue
        let time: Int64 =
            if case .integer(let value)? = test["now"] { value } else {
                now ?? Int64(Date().timeIntervalSince1970)
            }
        let requestCase = RequestCase(
            method: string(request, "method", "GET"), path: string(request, "path", "/"),
            host: string(request, "host", "localhost"), remoteIP: string(request, "remote_ip", "127.0.0.1"),
            query: string(request, "query", ""),
            scheme: string(request, "scheme", "http"), serverSocket: request?["server_socket"]?.stringValue,
            headers: headers)
        let outcome = try requestCase.decide(with: policy, presented: presented, now: time)
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
