/// How the token endpoint authenticates this client (OpenID Connect Core §9).
public enum TokenEndpointAuth: String, Sendable {
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"
    case none
}

/// The sign-in directives in force for one context: the fields their descriptors (Directives.swift) fill.
public struct SignInSettings: Sendable {
    public var enabled = false
    public var clientID: String?
    public var clientSecret: String?
    public var tokenEndpointAuth: TokenEndpointAuth?
    /// gatehouse.session-key-file and gatehouse.provider-metadata, read again when they change: nil
    /// when unset; set, nil inside when the CLI could not read the file offline (a warning said so).
    var keysFile: ReloadedFile<SessionKeys>??
    var metadataFile: ReloadedFile<ProviderMetadata>??
    public var scopes = "openid profile email"
    public var callbackPath = "/.gatehouse/callback"
    public var logoutPath = "/.gatehouse/logout"
    public var postLogoutRedirect = "/"
    public var lifetime: Int64 = 8 * 3600
    public var idleTimeout: Int64 = 3600
    /// gatehouse.refresh-before: seconds before the ID token expires that a session with a refresh
    /// token is refreshed; 0: never (the refresh token is not kept).
    public var refreshBefore: Int64 = 60
    /// Server-wide: worker threads per lighttpd process, and seconds per provider call.
    public var workers = 2
    public var timeout: Int64 = 10

    public var keys: SessionKeys? { (keysFile ?? nil)?.value }
    public var metadata: ProviderMetadata? { (metadataFile ?? nil)?.value }
    var keysConfigured: Bool { keysFile != nil }
    var metadataConfigured: Bool { metadataFile != nil }

    /// The client authentication in force: the configured one, or basic with a secret, none without.
    public var auth: TokenEndpointAuth { tokenEndpointAuth ?? (clientSecret == nil ? .none : .clientSecretBasic) }

    /// What a context that signs people in lacks; empty when it can work.
    func problems() -> [String] {
        guard enabled else { return [] }
        var problems = [String]()
        if clientID == nil {
            problems.append(
                "gatehouse.login = \"enable\" needs gatehouse.client-id (the client registered with the provider)")
        }
        if !keysConfigured {
            problems.append(
                "gatehouse.login = \"enable\" needs gatehouse.session-key-file (gatehouse session new-key writes one)")
        }
        if !metadataConfigured {
            problems.append(
                "gatehouse.login = \"enable\" needs gatehouse.provider-metadata (the provider's endpoints, saved by "
                    + "gatehouse jwks fetch --metadata-out FILE)")
        }
        if auth != .none && clientSecret == nil {
            problems.append(
                "gatehouse.token-endpoint-auth = \"\(auth.rawValue)\" needs gatehouse.client-secret-file")
        }
        if auth == .none && clientSecret != nil {
            problems.append(
                "gatehouse.token-endpoint-auth = \"none\" sends no secret: remove gatehouse.client-secret-file")
        }
        return problems
    }

    /// gatehouse.login.
    static func enabled(_ input: DirectiveInput) throws(ConfigError) -> Bool {
        guard case .string(let text) = input.value, text == "enable" || text == "disable" else {
            throw input.fail("\"enable\" or \"disable\"")
        }
        return text == "enable"
    }

    /// gatehouse.client-id.
    static func clientID(_ input: DirectiveInput) throws(ConfigError) -> String? {
        guard case .string(let id) = input.value, !id.isEmpty, id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw input.fail("the client id registered with the provider (printable, no spaces)")
        }
        return id
    }

    /// gatehouse.client-secret-file: the secret on one line; offline, "" when the file cannot be read.
    static func clientSecret(_ input: inout DirectiveInput) throws(ConfigError) -> String? {
        let path = try text(input)
        do {
            var bytes = try FileBytes.read(path: path, limit: 4096)
            while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
            guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw ConfigError("\(input.name): \(path) must hold the client secret on one line")
            }
            return String(decoding: bytes, as: UTF8.self)
        } catch let error as ConfigError {
            throw error
        } catch {
            if input.offline {
                input.warnings.append("\(input.name): cannot read \(path): \(error) (sign-in cannot be tried offline)")
                return ""
            }
            throw ConfigError("\(input.name): cannot read \(path): \(error)")
        }
    }

    /// gatehouse.token-endpoint-auth.
    static func tokenEndpointAuth(_ input: DirectiveInput) throws(ConfigError) -> TokenEndpointAuth? {
        guard case .string(let text) = input.value, let auth = TokenEndpointAuth(rawValue: text) else {
            throw input.fail("\"client_secret_basic\", \"client_secret_post\" or \"none\"")
        }
        return auth
    }

    /// gatehouse.session-key-file.
    static func keysFile(_ input: inout DirectiveInput) throws(ConfigError) -> ReloadedFile<SessionKeys>?? {
        let path = try text(input)
        do {
            return .some(
                try input.reloaded(
                    path,
                    load: { path throws(ConfigError) in try SessionKeys.load(path: path) },
                    describe: { "\($0.keys.count) session key\($0.keys.count == 1 ? "" : "s")" }))
        } catch {
            guard input.offline, !FileBytes.exists(path) else {
                throw ConfigError("\(input.name): \(error.description)")
            }
            input.warnings.append("\(input.name): \(error.description) (sessions cannot be opened offline)")
            return .some(nil)
        }
    }

    /// gatehouse.provider-metadata.
    static func metadataFile(_ input: inout DirectiveInput) throws(ConfigError) -> ReloadedFile<ProviderMetadata>?? {
        let path = try text(input)
        do {
            return .some(
                try input.reloaded(
                    path, load: { path throws(ConfigError) in try ProviderMetadata.load(path: path) },
                    describe: { _ in "the provider's endpoints" }))
        } catch {
            guard input.offline, !FileBytes.exists(path) else {
                throw ConfigError("\(input.name): \(error.description)")
            }
            input.warnings.append("\(input.name): \(error.description) (sign-in cannot be tried offline)")
            return .some(nil)
        }
    }

    /// gatehouse.login-scopes.
    static func scopes(_ input: DirectiveInput) throws(ConfigError) -> String {
        let scopes = try text(input)
        guard scopes.split(separator: " ").contains("openid"),
            scopes.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") })
        else { throw input.fail("space-separated scopes including \"openid\"") }
        return scopes
    }

    /// gatehouse.callback-path, gatehouse.logout-path and (`query`: a query allowed)
    /// gatehouse.post-logout-redirect.
    static func path(_ input: DirectiveInput, query: Bool = false) throws(ConfigError) -> String {
        let path = try text(input)
        guard ReturnTarget.isSameOrigin(path), query || !path.contains("?") else {
            throw input.fail("a path on this site starting with one \"/\"")
        }
        return path
    }

    /// gatehouse.session-lifetime, gatehouse.session-idle-timeout and gatehouse.sign-in-timeout.
    static func seconds(_ input: DirectiveInput, upTo limit: Int64) throws(ConfigError) -> Int64 {
        guard let seconds = duration(input.value), (1...limit).contains(seconds) else {
            throw input.fail("a duration from 1 second to \(limit) seconds (\"8h\", \"30m\", \"90s\" or seconds)")
        }
        return seconds
    }

    /// gatehouse.refresh-before: a duration, 0 allowed.
    static func refreshBefore(_ input: DirectiveInput) throws(ConfigError) -> Int64 {
        guard let seconds = duration(input.value), (0...86_400).contains(seconds) else {
            throw input.fail("a duration from 0 (never refresh) to 86400 seconds (\"60s\", \"5m\" or seconds)")
        }
        return seconds
    }

    /// gatehouse.sign-in-workers.
    static func workers(_ input: DirectiveInput) throws(ConfigError) -> Int {
        guard let count = duration(input.value), (1...64).contains(count) else {
            throw input.fail("a number of threads from 1 to 64")
        }
        return Int(count)
    }

    private static func text(_ input: DirectiveInput) throws(ConfigError) -> String {
        guard case .string(let text) = input.value, !text.isEmpty else { throw input.fail("a non-empty string") }
        return text
    }

    /// Seconds from a number, or from text with an s, m, h or d suffix.
    private static func duration(_ value: ConfigValue) -> Int64? {
        switch value {
        case .integer(let number): return number
        case .string(let text):
            guard let last = text.last else { return nil }
            let unit: Int64? =
                switch last {
                case "s": 1
                case "m": 60
                case "h": 3600
                case "d": 86_400
                default: nil
                }
            guard let unit else { return Int64(text) }
            return Int64(text.dropLast()).flatMap {
                $0.multipliedReportingOverflow(by: unit).overflow ? nil : $0 * unit
            }
        default: return nil
        }
    }
}

extension DirectiveInput {
    /// A sign-in file, read again when it changes. Said loudly: a file refused on a graceful
    /// restart, whose last good value stays in force.
    mutating func reloaded<Value: Sendable>(
        _ path: String, load: @escaping @Sendable (String) throws(ConfigError) -> Value,
        describe: @escaping @Sendable (Value) -> String
    ) throws(ConfigError) -> ReloadedFile<Value> {
        let file = try ReloadedFile(path: path, load: load, describe: describe)
        if let why = file.refusal {
            warnings.append(
                "\(name): \(path) was refused (\(why)); still serving the last good one loaded in this process: "
                    + "fix the file, it is read again when it changes")
        }
        return file
    }
}
