/// How the token endpoint authenticates this client (OpenID Connect Core §9).
public enum TokenEndpointAuth: String, Sendable {
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"
    case none
}

/// The compiled value of a sign-in directive.
public enum SignInValue: Sendable {
    case enabled(Bool)
    case secret(String)
    case auth(TokenEndpointAuth)
    /// nil: the file could not be read offline (the CLI only; a warning said so).
    case keys(SessionKeys?)
    case metadata(ProviderMetadata?)
    case scopes(String)
    case path(String)
    case seconds(Int64)
    case count(Int)
}

/// The sign-in directives in force for one context, derived from its settings.
public struct SignInSettings: Sendable {
    public var enabled = false
    public var clientID: String?
    public var clientSecret: String?
    public var tokenEndpointAuth: TokenEndpointAuth?
    public var keys: SessionKeys?
    public var metadata: ProviderMetadata?
    /// gatehouse.session-key-file and gatehouse.provider-metadata are set (read or not, offline).
    var keysConfigured = false
    var metadataConfigured = false
    public var scopes = "openid profile email"
    public var callbackPath = "/.gatehouse/callback"
    public var logoutPath = "/.gatehouse/logout"
    public var postLogoutRedirect = "/"
    public var lifetime: Int64 = 8 * 3600
    public var idleTimeout: Int64 = 3600
    /// Server-wide: worker threads per lighttpd process, and seconds per provider call.
    public var workers = 2
    public var timeout: Int64 = 10

    /// The client authentication in force: the configured one, or basic with a secret, none without.
    public var auth: TokenEndpointAuth { tokenEndpointAuth ?? (clientSecret == nil ? .none : .clientSecretBasic) }

    init(_ value: (Directive) -> SignInValue?) {
        if case .enabled(let on)? = value(.login) { enabled = on }
        if case .secret(let id)? = value(.clientID) { clientID = id }
        if case .secret(let secret)? = value(.clientSecretFile) { clientSecret = secret }
        if case .auth(let auth)? = value(.tokenEndpointAuth) { tokenEndpointAuth = auth }
        if case .keys(let keys)? = value(.sessionKeyFile) { (self.keys, keysConfigured) = (keys, true) }
        if case .metadata(let metadata)? = value(.providerMetadata) {
            (self.metadata, metadataConfigured) = (metadata, true)
        }
        if case .scopes(let scopes)? = value(.loginScopes) { self.scopes = scopes }
        if case .path(let path)? = value(.callbackPath) { callbackPath = path }
        if case .path(let path)? = value(.logoutPath) { logoutPath = path }
        if case .path(let path)? = value(.postLogoutRedirect) { postLogoutRedirect = path }
        if case .seconds(let seconds)? = value(.sessionLifetime) { lifetime = seconds }
        if case .seconds(let seconds)? = value(.sessionIdleTimeout) { idleTimeout = seconds }
        if case .count(let count)? = value(.signInWorkers) { workers = count }
        if case .seconds(let seconds)? = value(.signInTimeout) { timeout = seconds }
    }

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

    /// Compiles a sign-in directive's value (Setting.compile hands these here), with the warning
    /// to show when `offline` (the CLI) could not read a file the module will need.
    static func compile(
        _ directive: Directive, _ value: ConfigValue, offline: Bool
    ) throws(ConfigError)
        -> (SignInValue, warning: String?)
    {
        var warning: String?
        let value = try compileValue(directive, value, offline: offline, warning: &warning)
        return (value, warning)
    }

    private static func compileValue(
        _ directive: Directive, _ value: ConfigValue, offline: Bool, warning: inout String?
    ) throws(ConfigError) -> SignInValue {
        let name = directive.name
        func fail(_ expected: String) -> ConfigError { ConfigError("\(name): expected \(expected), got \(value)") }
        func text() throws(ConfigError) -> String {
            guard case .string(let text) = value, !text.isEmpty else { throw fail("a non-empty string") }
            return text
        }
        switch directive {
        case .login:
            guard case .string(let text) = value, text == "enable" || text == "disable" else {
                throw fail("\"enable\" or \"disable\"")
            }
            return .enabled(text == "enable")
        case .clientID:
            guard case .string(let id) = value, !id.isEmpty, id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw fail("the client id registered with the provider (printable, no spaces)")
            }
            return .secret(id)
        case .clientSecretFile:
            let path = try text()
            do {
                var bytes = try FileBytes.read(path: path, limit: 4096)
                while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
                guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                    throw ConfigError("\(name): \(path) must hold the client secret on one line")
                }
                return .secret(String(decoding: bytes, as: UTF8.self))
            } catch let error as ConfigError {
                throw error
            } catch {
                if offline {
                    warning = "\(name): cannot read \(path): \(error) (sign-in cannot be tried offline)"
                    return .secret("")
                }
                throw ConfigError("\(name): cannot read \(path): \(error)")
            }
        case .tokenEndpointAuth:
            guard case .string(let text) = value, let auth = TokenEndpointAuth(rawValue: text) else {
                throw fail("\"client_secret_basic\", \"client_secret_post\" or \"none\"")
            }
            return .auth(auth)
        case .sessionKeyFile:
            let path = try text()
            do {
                return .keys(try SessionKeys.load(path: path))
            } catch {
                guard offline, !FileBytes.exists(path) else { throw ConfigError("\(name): \(error.description)") }
                warning = "\(name): \(error.description) (sessions cannot be opened offline)"
                return .keys(nil)
            }
        case .providerMetadata:
            let path = try text()
            do {
                return .metadata(try ProviderMetadata.load(path: path))
            } catch {
                guard offline, !FileBytes.exists(path) else { throw ConfigError("\(name): \(error.description)") }
                warning = "\(name): \(error.description) (sign-in cannot be tried offline)"
                return .metadata(nil)
            }
        case .loginScopes:
            let scopes = try text()
            guard scopes.split(separator: " ").contains("openid"),
                scopes.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") })
            else { throw fail("space-separated scopes including \"openid\"") }
            return .scopes(scopes)
        case .callbackPath, .logoutPath, .postLogoutRedirect:
            let path = try text()
            guard ReturnTarget.isSameOrigin(path), directive == .postLogoutRedirect || !path.contains("?") else {
                throw fail("a path on this site starting with one \"/\"")
            }
            return .path(path)
        case .sessionLifetime, .sessionIdleTimeout, .signInTimeout:
            let limit: Int64 = directive == .signInTimeout ? 120 : 30 * 86_400
            guard let seconds = duration(value), (1...limit).contains(seconds) else {
                throw fail("a duration from 1 second to \(limit) seconds (\"8h\", \"30m\", \"90s\" or seconds)")
            }
            return .seconds(seconds)
        case .signInWorkers:
            guard let count = duration(value), (1...64).contains(count) else {
                throw fail("a number of threads from 1 to 64")
            }
            return .count(Int(count))
        default:
            throw fail("a sign-in directive")
        }
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
