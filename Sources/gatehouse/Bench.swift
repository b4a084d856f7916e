import ArgumentParser
import Foundation
import GatehouseCore

/// Verifications per second, per algorithm, without the cache (every token verified in full)
/// and through it (the same tokens again). A benchmark, not a test: scripts/bench.sh runs it
/// beside `openssl speed` and BENCHMARKS.md records the ratios.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure token verification speed, cold and cached (see scripts/bench.sh).")

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
            let cold = rate(list) { TokenVerifier.verify($0, keys: keys, requirements: requirements, now: time) }
            let cache = TokenCache(capacity: list.count)
            let cached = rate(list) {
                TokenVerifier.verify($0, keys: keys, requirements: requirements, now: time, cache: cache)
            }
            if json {
                rows.append(.object(JSONObject(members: [
                    ("algorithm", .string(algorithm.rawValue)), ("tokens", .integer(Int64(list.count))),
                    ("cold_per_second", .real(cold.rounded())), ("cached_per_second", .real(cached.rounded())),
                ])))
            } else {
                print(algorithm.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0),
                      String(list.count).leftPadded(7), String(Int(cold)).leftPadded(14),
                      String(Int(cached)).leftPadded(16))
            }
        }
        if json { print(JSON.array(rows).serialized) }
    }

    /// Calls `body` on the tokens in turn for `seconds`; returns calls per second.
    private func rate(_ tokens: [String], _ body: (String) -> Result<VerifiedToken, TokenError>) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        var calls = 0
        var failures = 0
        repeat {
            for token in tokens {
                if case .failure = body(token) { failures += 1 }
            }
            calls += tokens.count
        } while clock.now - start < .seconds(seconds)
        precondition(failures == 0, "verification failed during the benchmark")
        let elapsed = clock.now - start
        return Double(calls) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
