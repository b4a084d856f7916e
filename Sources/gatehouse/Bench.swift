import ArgumentParser
import Foundation
import GatehouseCore

/// Benchmarks, not tests: scripts/bench.sh runs them and BENCHMARKS.md records the ratios.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure verification and decision speed (see scripts/bench.sh).",
        shouldDisplay: false, subcommands: [BenchVerify.self, BenchRules.self, BenchMemory.self])
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

func rate<Verified>(_ tokens: [String], seconds: Double, _ body: (String) -> Result<Verified, TokenError>) -> Double {
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

/// Memory per cached token, through the module's path (Gate.decide with a verified-token cache of
/// as many entries as tokens): the process's private memory (RssAnon of /proc/self/status) before
/// the cache is made and after every token went through it once, over the number of tokens (issue
/// 15: at most 1 KB for a 612-byte RS256 token).
struct BenchMemory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory", abstract: "Heap bytes per cached token.")

    @Option(help: "JWKS with the keys the tokens are signed with.") var jwks: String
    @Option(help: "File of lines \"ALG TOKEN\" (scripts/bench_tokens.py writes one).") var tokens: String
    @Option(help: "The algorithm whose tokens are cached.") var algorithm = "RS256"
    @Option(help: "gatehouse.issuer.") var issuer = "https://idp.example.test/"
    @Option(help: "gatehouse.audience.") var audience = "gatehouse-api"
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        guard let text = try? String(contentsOfFile: tokens, encoding: .utf8) else {
            throw UsageError("cannot read \(tokens)")
        }
        let list = text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            return fields.count == 2 && fields[0] == algorithm ? String(fields[1]) : nil
        }
        guard list.count > 1 else { throw UsageError("\(tokens): fewer than two \(algorithm) tokens") }
        var configuration = Configuration()
        configuration[.issuer] = try Setting.compile(.issuer, .string(issuer))
        configuration[.audience] = try Setting.compile(.audience, .string(audience))
        configuration[.jwks] = try Setting.compile(.jwks, .string(jwks))
        configuration[.algorithms] = try Setting.compile(.algorithms, .list([(nil, .string(algorithm))]))
        configuration[.require] = try Setting.compile(.require, .list([("/", .string("authenticated"))]))
        let now = Int64(Date().timeIntervalSince1970)
        func decide(_ token: String, cache: TokenCache) -> Bool {
            let request = HTTPRequest(method: "GET", path: "/", host: "bench", remoteIP: "127.0.0.1") {
                $0 == "Authorization" ? "Bearer " + token : nil
            }
            return Gate.decide(request, configuration: configuration, now: now, cache: cache, explain: false)?
                .verdict.status == 0
        }
        // One token through a cache of its own first, so that what is made once (lazy globals,
        // OpenSSL's prepared contexts) is not counted.
        guard decide(list[0], cache: TokenCache(capacity: 1)) else {
            throw UsageError("a \(algorithm) token is refused: regenerate the tokens")
        }
        let before = try BenchMemory.privateMemory()
        let cache = TokenCache(capacity: list.count)
        for token in list where !decide(token, cache: cache) {
            throw UsageError("a \(algorithm) token is refused: regenerate the tokens")
        }
        let after = try BenchMemory.privateMemory()
        precondition(cache.count == list.count)
        let length = list.map(\.utf8.count).reduce(0, +) / list.count
        if json {
            let members: [(String, JSON)] = [
                ("algorithm", .string(algorithm)), ("tokens", .integer(Int64(list.count))),
                ("token_bytes", .integer(Int64(length))),
                ("bytes_per_token", .integer(Int64((after - before) / list.count))),
            ]
            print(JSON.object(JSONObject(members: members)).serialized)
            return
        }
        print(
            "\(list.count) \(algorithm) tokens of \(length) bytes cached: "
                + "\((after - before) / list.count) bytes per token (RssAnon)")
    }

    /// RssAnon, in bytes.
    static func privateMemory() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }),
            let kilobytes = Int(line.split(separator: " ")[1])
        else { throw UsageError("no RssAnon in /proc/self/status") }
        return kilobytes * 1024
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
