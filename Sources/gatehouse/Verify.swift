import ArgumentParser
import Foundation
import GatehouseCore

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate one token against a key set; print its claims, or why it is refused.")

    @Option(help: "JWKS or PEM public key file.") var jwks: String
    @Option(help: "The token, or - to read it from standard input.") var token: String
    @Option(help: "An accepted issuer (repeatable; none: any issuer).") var issuer: [String] = []
    @Option(help: "An accepted audience (repeatable; none: any audience).") var audience: [String] = []
    @Option(help: "Allowed algorithms, comma-separated.") var algorithms: String = "RS256,PS256,ES256,EdDSA"
    @Option(help: "Seconds of clock skew allowed.") var leeway: Int64 = 60
    @Option(help: "Unix time to check against (default: now).") var now: Int64?
    @Flag(help: "Check the header and the signature only (any payload, no claims checks).") var signatureOnly = false
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        let keys: KeySet
        do { keys = try KeySet.load(path: jwks) } catch { throw UsageError("\(error)") }
        var allowed = Set<JWSAlgorithm>()
        for name in algorithms.split(separator: ",") {
            guard let algorithm = JWSAlgorithm(name: name.trimmingCharacters(in: .whitespaces)) else {
                throw UsageError("--algorithms: unknown algorithm \"\(name)\"")
            }
            allowed.insert(algorithm)
        }
        let requirements = TokenRequirements(
            issuers: issuer.isEmpty ? nil : issuer,
            audiences: audience.isEmpty ? nil : audience,
            algorithms: allowed, leeway: leeway)
        var text = try TokenInput.read(token)
        let time = now ?? Int64(Date().timeIntervalSince1970)

        let result: Result<(header: JSONObject, claims: JSON?), TokenError> = text.withUTF8 { bytes in
            if signatureOnly {
                return TokenVerifier.verifySignature(bytes, keys: keys, algorithms: allowed).map { parts in
                    (parts.header, try? JSON.parse(parts.payload).get())
                }
            }
            return TokenVerifier.verify(bytes, keys: keys, requirements: requirements, now: time).map {
                ($0.header, .object($0.claims))
            }
        }
        switch result {
        case .success(let parts):
            if json {
                print(
                    JSON.object(
                        JSONObject(members: [
                            ("valid", .bool(true)), ("header", .object(parts.header)),
                            ("claims", parts.claims ?? .null),
                        ])
                    ).serialized)
            } else {
                print("valid")
                print("header: \(JSON.object(parts.header).serialized)")
                print("claims: \(parts.claims?.serialized ?? "(payload is not JSON)")")
            }
        case .failure(let error):
            if json {
                print(
                    JSON.object(
                        JSONObject(members: [
                            ("valid", .bool(false)), ("error", .string(error.code.rawValue)),
                            ("message", .string(error.message)),
                        ])
                    ).serialized)
            } else {
                print("invalid: \(error.code.rawValue): \(error.message)")
            }
            throw ExitCode(1)
        }
    }
}

/// `--token T`, or `--token -` for standard input (tokens can exceed the command-line limit).
enum TokenInput {
    static func read(_ argument: String) throws -> String {
        guard argument == "-" else { return argument }
        let data = FileHandle.standardInput.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
