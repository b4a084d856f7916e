import ArgumentParser
import Foundation
import GatehouseCore

/// Benchmarks, not tests: scripts/bench.sh runs them and BENCHMARKS.md records the ratios.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure verification and decision speed (see scripts/bench.sh).",
        shouldDisplay: false, subcommands: [BenchVerify.self, BenchRules.self])
}

/// Verifications per second, per algorithm, without the cache (every token verified in full)
/// and through it (the same tokens again), beside `openssl speed` in scripts/bench.sh.
struct BenchVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Token verification per second, cold and cached.")

    @Option(help: "JWKS with the keys the tokens are signed with.") var jwks: String
    @Option(help: "File of lines \"ALG TOKEN\" (scripts/bench_tokens.py writes one).") var tokens: String
    @Option(help: "Seconds to measure each figure.") var seconds: Double = 2
    @Option(help: "Unix time to check the tokens against (default: now).") var now: Int64?
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        let keys: KeySet
        do { keys = try KeySet.load(path: jwks) } catch { throw UsageError("\(error)") }
        guard let text = try? String(contentsOfFile: tokens, encoding: .utf8) else {
            throw UsageError("cannot read \(tokens)")
        }
        var byAlgorithm: [(JWSAlgorithm, [String])] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let algorithm = JWSAlgorithm(name: String(fields[0])) else {
                throw UsageError("\(tokens): expected lines \"ALG TOKEN\"")
            }
            if let index = byAlgorithm.firstIndex(where: { $0.0 == algorithm }) {
                byAlgorithm[index].1.append(String(fields[1]))
            } else {
                byAlgorithm.append((algorithm, [String(fields[1])]))
            }
        }
        let time = now ?? Int64(Date().timeIntervalSince1970)
        var rows = [JSON]()
        if !json { print("algorithm  tokens  cold verify/s  cached verify/s") }
        for (algorithm, list) in byAlgorithm {
            let requirements = TokenRequirements(issuers: nil, audiences: nil, algorithms: [algorithm])
            for token in list {
                guard case .success = TokenVerifier.verify(token, keys: keys, requirements: requirements, now: time)
                else { throw UsageError("a \(algorithm.rawValue) token does not verify: regenerate the tokens") }
            }
            let cold = rate(list, seconds: seconds) {
                TokenVerifier.verify($0, keys: keys, requirements: requirements, now: time)
            }
            let cache = TokenCache(capacity: list.count)
            let cached = rate(list, seconds: seconds) {
                TokenVerifier.verify($0, keys: keys, requirements: requirements, now: time, cache: cache)
            }
            if json {
                rows.append(
                    .object(
                        JSONObject(members: [
                            ("algorithm", .string(algorithm.rawValue)), ("tokens", .integer(Int64(list.count))),
                            ("cold_per_second", .real(cold.rounded())), ("cached_per_second", .real(cached.rounded())),
                        ])))
            } else {
                print(
                    algorithm.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0),
                    String(list.count).leftPadded(7), String(Int(cold)).leftPadded(14),
                    String(Int(cached)).leftPadded(16))
            }
        }
        if json { print(JSON.array(rows).serialized) }
    }

}

/// Calls `body` on the inputs in turn for `seconds`; returns calls per second. `body` returns
/// false on a failure, which stops the benchmark.
func rate<Input>(_ inputs: [Input], seconds: Double, _ body: (Input) -> Bool) -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    var calls = 0
    repeat {
        for input in inputs {
            precondition(body(input), "a call failed during the benchmark")
        }
        calls += inputs.count
    } while clock.now - start < .seconds(seconds)
    let elapsed = clock.now - start
    return Double(calls) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
}

func rate(_ tokens: [String], seconds: Double, _ body: (String) -> Result<VerifiedToken, TokenError>) -> Double {
    rate(tokens, seconds: seconds) { (token: String) -> Bool in
        if case .success = body(token) { return true }
        return false
    }
}

/// Decisions per second with a small and a large `gatehouse.require`: choosing a rule must not
/// grow with rules that cannot match (issue #4: 10,000 rules within 2× the time of 10).
struct BenchRules: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Decisions per second with few and many rules.")

    @Option(help: "Rule counts to compare, comma-separated.") var counts: String = "10,10000"
    @Option(help: "Seconds to measure each figure.") var seconds: Double = 2
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        var results = [(Int, Double)]()
        for count in counts.split(separator: ",").compactMap({ Int($0) }) {
            // Services with item paths and captures, as a large API gateway would declare them.
            var entries = [(pattern: String, expression: String)]()
            for index in 0..<count {
                switch index % 3 {
                case 0: entries.append(("/svc\(index)/items/{id}/", "anonymous or role:r\(index)"))
                case 1: entries.append(("GET,HEAD /svc\(index)/", "anonymous"))
                default: entries.append(("/svc\(index)/admin", "request.method == 'GET' or deny"))
                }
            }
            entries.append(("/", "deny"))
            var configuration = Configuration()
            configuration[.require] = try Setting.compile(
                .require, .list(entries.map { ($0.pattern, .string($0.expression)) }))
            let requests = (0..<1000).map { n -> HTTPRequest in
                let service = (n * 7919) % count
                let path =
                    switch service % 3 {
                    case 0: "/svc\(service)/items/\(n)/detail"
                    case 1: "/svc\(service)/list"
                    default: "/svc\(service)/admin"
                    }
                return HTTPRequest(method: "GET", path: path, host: "bench", remoteIP: "127.0.0.1") { _ in nil }
            }
            let perSecond = rate(requests, seconds: seconds) { request in
                Gate.decide(request, configuration: configuration, now: 0, explain: false)?.verdict.status == 0
            }
            results.append((count, perSecond))
            if !json {
                print("\(String(count).leftPadded(6)) rules: \(String(Int(perSecond)).leftPadded(9)) decisions/s")
            }
        }
        if json {
            let rows = results.map { count, perSecond in
                JSON.object(
                    JSONObject(members: [
                        ("rules", .integer(Int64(count))), ("decisions_per_second", .real(perSecond.rounded())),
                    ]))
            }
            print(JSON.array(rows).serialized)
            return
        }
        if let first = results.first, let last = results.last, results.count > 1 {
            print(String(format: "time per decision, %d rules / %d rules: %.2f", last.0, first.0, first.1 / last.1))
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
