import ArgumentParser
import Foundation
import GatehouseCore
import LighttpdConfig

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate one token against a key set; print its claims, or why it is refused.",
        discussion: """
            Either name the keys and requirements with --jwks (and --issuer, --audience, --algorithms, \
            --leeway), or take them from a lighttpd.conf with --config: the issuers, audiences, key \
            files (gatehouse.jwks, gatehouse.hmac-secret-file), algorithms, leeway, maximum token age, \
            token type and claim types (gatehouse.claims-schema) in force for a request to --context URL, \
            chosen by lighttpd's conditions as gatehouse check chooses them. The two ways do not mix: --config with any of those flags is an \
            error. With --config the output also names the conditions that matched and the file:line of \
            each directive used ("default" for one no line sets).
            """)

    @Option(help: "JWKS or PEM public key file.") var jwks: String?
    @Option(help: "The token, or - to read it from standard input.") var token: String
    @Option(help: "An accepted issuer (repeatable; none: any issuer).") var issuer: [String] = []
    @Option(help: "An accepted audience (repeatable; none: any audience).") var audience: [String] = []
    @Option(help: "Allowed algorithms, comma-separated (default: RS256,PS256,ES256,EdDSA).") var algorithms: String?
    @Option(help: "Seconds of clock skew allowed (default: 60).") var leeway: Int64?
    @Option(help: "The lighttpd.conf whose token settings to use, instead of the flags above.") var config: String?
    @Option(
        help: ArgumentHelp(
            "With --config: the request whose settings apply, a path or http(s)://host[:port]/path (default: /).",
            valueName: "url"))
    var context: String?
    @Option(help: "With --config: NAME=VALUE replaces the configuration's var.NAME (repeatable).")
    var define: [String] = []
    @Flag(help: "With --config: run include_shell commands of the configuration.") var allowShell = false
    @Option(help: "Unix time to check against (default: now).") var now: Int64?
    @Flag(help: "Check the header and the signature only (any payload, no claims checks).") var signatureOnly = false
    @Flag(help: "Machine-readable output.") var json = false

    func validate() throws {
        if config != nil {
            let given = [
                ("--jwks", jwks != nil), ("--issuer", !issuer.isEmpty), ("--audience", !audience.isEmpty),
                ("--algorithms", algorithms != nil), ("--leeway", leeway != nil),
            ].filter(\.1).map(\.0)
            if !given.isEmpty {
                throw ValidationError(
                    "--config takes the keys and requirements from the configuration: give it or "
                        + given.joined(separator: ", ") + ", not both")
            }
        } else {
            if jwks == nil { throw ValidationError("give --jwks (or --config)") }
            if context != nil || !define.isEmpty || allowShell {
                throw ValidationError("--context, --define and --allow-shell go with --config")
            }
        }
    }

    func run() throws {
        let keys: KeySet
        let requirements: TokenRequirements
        var used: TokenSettings?
        if let config {
            let settings = try TokenSettings(
                config: config, context: context ?? "/", defines: define, allowShell: allowShell)
            (keys, requirements, used) = (try settings.keys(), try settings.requirements(), settings)
        } else {
            do { keys = try KeySet.load(path: jwks ?? "") } catch { throw UsageError("\(error)") }
            var allowed = Set<JWSAlgorithm>()
            for name in (algorithms ?? "RS256,PS256,ES256,EdDSA").split(separator: ",") {
                guard let algorithm = JWSAlgorithm(name: name.trimmingCharacters(in: .whitespaces)) else {
                    throw UsageError("--algorithms: unknown algorithm \"\(name)\"")
                }
                allowed.insert(algorithm)
            }
            requirements = TokenRequirements(
                issuers: issuer.isEmpty ? nil : issuer,
                audiences: audience.isEmpty ? nil : audience,
                algorithms: allowed, leeway: leeway ?? 60)
        }
        let allowed = requirements.algorithms
        var text = try TokenInput.read(token)
        let time = now ?? Int64(Date().timeIntervalSince1970)

        let result: Result<(header: JSONObject, claims: JSON?), TokenError> = text.withUTF8 { bytes in
            if signatureOnly {
                return TokenVerifier.verifySignature(bytes, keys: keys, algorithms: allowed).map { parts in
                    (parts.header, try? JSON.parse(parts.payload).get())
                }
            }
            return TokenVerifier.verify(bytes, keys: keys, requirements: requirements, now: time).flatMap {
                // A valid token whose claim has another type than gatehouse.claims-schema declares is
                // refused by the module (403 claim_type_mismatch) where the answer depends on it.
                if let mismatch = used?.configuration.claimsSchema?.check($0.claims) { return .failure(mismatch) }
                return .success(($0.header, .object($0.claims)))
            }
        }
        switch result {
        case .success(let parts):
            if json {
                print(
                    JSON.object(
                        JSONObject(
                            members: [
                                ("valid", .bool(true)), ("header", .object(parts.header)),
                                ("claims", parts.claims ?? .null),
                            ] + (used.map { [("config", $0.json)] } ?? []))
                    ).serialized)
            } else {
                print("valid")
                print("header: \(JSON.object(parts.header).serialized)")
                print("claims: \(parts.claims?.serialized ?? "(payload is not JSON)")")
                if let used { print(used.text) }
            }
        case .failure(let error):
            if json {
                print(
                    JSON.object(
                        JSONObject(
                            members: [
                                ("valid", .bool(false)), ("error", .string(error.code.rawValue)),
                                ("message", .string(error.message)),
                            ] + (used.map { [("config", $0.json)] } ?? []))
                    ).serialized)
            } else {
                print("invalid: \(error.code.rawValue): \(error.message)")
                if let used { print(used.text) }
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
