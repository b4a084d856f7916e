import GatehouseCore
import LighttpdConfig

/// The token settings a lighttpd.conf puts in force for one request, and where each came from:
/// what `verify --config` verifies with and what `test --url` mints tokens for.
struct TokenSettings {
    /// The directives that say what a token must be (its claims' types too) and which keys verify it.
    static let directives: [Directive] = [
        .issuer, .audience, .jwks, .hmacSecretFile, .algorithms, .leeway, .maxTokenAge, .tokenType, .claimsSchema,
    ]

    let configuration: Configuration
    /// The request, as given (`--context`).
    let url: String
    /// The conditions of the matching contexts, outermost first (none: the global context only).
    let conditions: [(condition: String, location: SourceLocation)]
    /// Each of `directives` with the place that set it; nil: its default.
    let sources: [(directive: Directive, location: SourceLocation?)]

    init(policy: LoadedConfig, facts: RequestFacts, url: String) throws {
        configuration = try policy.configuration(for: facts)
        self.url = url
        conditions = policy.config.matchingContexts(for: facts).compactMap { index in
            let context = policy.config.contexts[index]
            return context.condition.map { ($0, context.location) }
        }
        let entries = policy.config.directives(for: facts, prefix: "gatehouse.")
        sources = Self.directives.map { directive in
            (directive, entries.last { $0.key == directive.name }?.location)
        }
    }

    /// `--context URL` read as the request a client sends: a path (`/api/x?a=1`, to Host localhost) or
    /// an absolute `http://` or `https://` URL, whose host is the Host header.
    static func request(for url: String) throws -> RequestCase {
        var scheme = "http"
        var host = "localhost"
        var target = url
        for prefix in ["http://", "https://"] where url.lowercased().hasPrefix(prefix) {
            scheme = String(prefix.dropLast(3))
            let rest = url.dropFirst(prefix.count)
            let slash = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            host = String(rest[..<slash])
            target = rest[slash...].hasPrefix("/") ? String(rest[slash...]) : "/" + rest[slash...]
        }
        guard target.hasPrefix("/"), !host.isEmpty else {
            throw UsageError("--context \"\(url)\": expected a path (/api/) or an http(s):// URL")
        }
        return RequestCase(
            method: "GET", target: target, host: host, remoteIP: "127.0.0.1", scheme: scheme, headers: [])
    }

    /// Loads `config` and reads the request to `url` as lighttpd would (`verify --config --context`).
    init(config: String, context url: String, defines: [String], allowShell: Bool) throws {
        let policy = try LoadedConfig(path: config, allowShell: allowShell, defines: defines, offline: true)
        let facts: RequestFacts
        do {
            facts = try Self.request(for: url).read(with: policy).facts
        } catch let rejected as RequestRejected {
            throw UsageError("--context \(url): \(rejected)")
        } catch let problem as RequestCase.Problem {
            throw UsageError("--context \(url): \(problem)")
        }
        try self.init(policy: policy, facts: facts, url: url)
    }

    /// The keys, for verifying: an error when none applies or a key file cannot be read.
    func keys() throws -> KeySet {
        let unreadable = configuration.unreadableKeys
        guard unreadable.isEmpty else {
            throw UsageError(
                unreadable.joined(separator: " and ") + " cannot be read "
                    + "(--define NAME=PATH replaces the var. the configuration uses)")
        }
        guard let keys = configuration.keys else {
            throw UsageError("no gatehouse.jwks or gatehouse.hmac-secret-file applies to a request to \(url)")
        }
        return keys
    }

    /// The requirements, for verifying: an error when no issuer or audience applies (the module
    /// refuses such a configuration where a rule needs a token).
    func requirements() throws -> TokenRequirements {
        for directive in [Directive.issuer, .audience] where configuration[directive] == nil {
            throw UsageError("no \(directive.name) applies to a request to \(url)")
        }
        return configuration.tokenRequirements
    }

    var text: String {
        var lines = [
            "settings for a request to \(url): "
                + (conditions.isEmpty
                    ? "the global context"
                    : "the global context and "
                        + conditions.map { "\($0.condition) (\($0.location))" }
                        .joined(separator: ", "))
        ]
        lines += sources.map { "  \($0.directive.name): \($0.location.map { "\($0)" } ?? "default")" }
        return lines.joined(separator: "\n")
    }

    var json: JSON {
        .object(
            JSONObject(members: [
                ("context", .string(url)),
                (
                    "conditions",
                    .array(
                        conditions.map {
                            .object(
                                JSONObject(members: [
                                    ("condition", .string($0.condition)), ("location", .string("\($0.location)")),
                                ]))
                        })
                ),
                (
                    "directives",
                    .object(
                        JSONObject(
                            members: sources.map { ($0.directive.name, $0.location.map { .string("\($0)") } ?? .null) }
                        ))
                ),
            ]))
    }
}
