internal import CGatehouse

/// The gatehouse.* directives. Their numbers come from gatehouse.h, the shim's table order.
public enum Directive: CaseIterable, Sendable {
    case issuer, audience, jwks, algorithms, leeway, maxTokenAge, tokenType
    case rolesClaim, groupsClaim, scopeClaim, require, defaultRule
    case headers, stripHeaders, env, realm, hmacSecretFile, cacheSize, roleInherits, mode, corsPreflight, tokenSources, auditLog, auditEvents, rateLimit, statusURL
    case pathChecks
    case login, clientID, clientSecretFile, tokenEndpointAuth, sessionKeyFile, providerMetadata, loginScopes
    case callbackPath, logoutPath, postLogoutRedirect, sessionLifetime, sessionIdleTimeout, signInWorkers, signInTimeout

    /// The index in gatehouse.h's `enum gh_v1_directive`.
    public var id: Int {
        let value =
            switch self {
            case .issuer: GH_V1_ISSUER
            case .audience: GH_V1_AUDIENCE
            case .jwks: GH_V1_JWKS
            case .algorithms: GH_V1_ALGORITHMS
            case .leeway: GH_V1_LEEWAY
            case .maxTokenAge: GH_V1_MAX_TOKEN_AGE
            case .tokenType: GH_V1_TOKEN_TYPE
            case .rolesClaim: GH_V1_ROLES_CLAIM
            case .groupsClaim: GH_V1_GROUPS_CLAIM
            case .scopeClaim: GH_V1_SCOPE_CLAIM
            case .require: GH_V1_REQUIRE
            case .defaultRule: GH_V1_DEFAULT
            case .headers: GH_V1_HEADERS
            case .stripHeaders: GH_V1_STRIP_HEADERS
            case .env: GH_V1_ENV
            case .realm: GH_V1_REALM
            case .hmacSecretFile: GH_V1_HMAC_SECRET_FILE
            case .cacheSize: GH_V1_CACHE_SIZE
            case .roleInherits: GH_V1_ROLE_INHERITS
            case .mode: GH_V1_MODE
        case .corsPreflight: GH_V1_CORS_PREFLIGHT
        case .tokenSources: GH_V1_TOKEN_SOURCES
        case .auditLog: GH_V1_AUDIT_LOG
        case .auditEvents: GH_V1_AUDIT_EVENTS
        case .rateLimit: GH_V1_RATE_LIMIT
        case .statusURL: GH_V1_STATUS_URL
        case .pathChecks: GH_V1_PATH_CHECKS
        case .login: GH_V1_LOGIN
        case .clientID: GH_V1_CLIENT_ID
        case .clientSecretFile: GH_V1_CLIENT_SECRET_FILE
        case .tokenEndpointAuth: GH_V1_TOKEN_ENDPOINT_AUTH
        case .sessionKeyFile: GH_V1_SESSION_KEY_FILE
        case .providerMetadata: GH_V1_PROVIDER_METADATA
        case .loginScopes: GH_V1_LOGIN_SCOPES
        case .callbackPath: GH_V1_CALLBACK_PATH
        case .logoutPath: GH_V1_LOGOUT_PATH
        case .postLogoutRedirect: GH_V1_POST_LOGOUT_REDIRECT
        case .sessionLifetime: GH_V1_SESSION_LIFETIME
        case .sessionIdleTimeout: GH_V1_SESSION_IDLE_TIMEOUT
        case .signInWorkers: GH_V1_SIGN_IN_WORKERS
        case .signInTimeout: GH_V1_SIGN_IN_TIMEOUT
            }
        return Int(value.rawValue)
    }

    static let count = Int(GH_V1_DIRECTIVE_COUNT.rawValue)

    public init?(id: Int) {
        guard let match = Directive.allCases.first(where: { $0.id == id }) else { return nil }
        self = match
    }

    public init?(name: String) {
        guard let match = Directive.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    public var name: String {
        switch self {
        case .issuer: "gatehouse.issuer"
        case .audience: "gatehouse.audience"
        case .jwks: "gatehouse.jwks"
        case .algorithms: "gatehouse.algorithms"
        case .leeway: "gatehouse.leeway"
        case .maxTokenAge: "gatehouse.max-token-age"
        case .tokenType: "gatehouse.token-type"
        case .rolesClaim: "gatehouse.roles-claim"
        case .groupsClaim: "gatehouse.groups-claim"
        case .scopeClaim: "gatehouse.scope-claim"
        case .require: "gatehouse.require"
        case .defaultRule: "gatehouse.default"
        case .headers: "gatehouse.headers"
        case .stripHeaders: "gatehouse.strip-headers"
        case .env: "gatehouse.env"
        case .realm: "gatehouse.realm"
        case .hmacSecretFile: "gatehouse.hmac-secret-file"
        case .cacheSize: "gatehouse.cache-size"
        case .roleInherits: "gatehouse.role-inherits"
        case .mode: "gatehouse.mode"
        case .corsPreflight: "gatehouse.cors-preflight"
        case .tokenSources: "gatehouse.token-sources"
        case .auditLog: "gatehouse.audit-log"
        case .auditEvents: "gatehouse.audit-events"
        case .rateLimit: "gatehouse.rate-limit"
        case .statusURL: "gatehouse.status-url"
        case .pathChecks: "gatehouse.path-checks"
        case .login: "gatehouse.login"
        case .clientID: "gatehouse.client-id"
        case .clientSecretFile: "gatehouse.client-secret-file"
        case .tokenEndpointAuth: "gatehouse.token-endpoint-auth"
        case .sessionKeyFile: "gatehouse.session-key-file"
        case .providerMetadata: "gatehouse.provider-metadata"
        case .loginScopes: "gatehouse.login-scopes"
        case .callbackPath: "gatehouse.callback-path"
        case .logoutPath: "gatehouse.logout-path"
        case .postLogoutRedirect: "gatehouse.post-logout-redirect"
        case .sessionLifetime: "gatehouse.session-lifetime"
        case .sessionIdleTimeout: "gatehouse.session-idle-timeout"
        case .signInWorkers: "gatehouse.sign-in-workers"
        case .signInTimeout: "gatehouse.sign-in-timeout"
        }
    }
}

extension Directive {
    /// Checks a configuration key that starts with `gatehouse.` in any letter case. lighttpd finds keys
    /// in any letter case (`Gatehouse.Require` is `gatehouse.require` to it) and only warns about keys
    /// no module asks for, so a misspelt or oddly cased directive would silently leave a location
    /// unguarded, or guard it in a way nothing else reads. Returns nil for a directive as written,
    /// else the message that stops startup, naming the directive meant when one is close.
    public static func problem(withKey key: String) -> String? {
        if Directive(name: key) != nil { return nil }
        let folded = Array(key.utf8).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        if let same = allCases.first(where: { Array($0.name.utf8) == folded }) {
            return "unknown directive \(key): did you mean \(same.name)? (directives are written in lower case)"
        }
        let nearest = allCases.map { ($0, editDistance(Array($0.name.utf8), folded)) }.min { $0.1 < $1.1 }
        if let (directive, distance) = nearest, distance <= 3 {
            return "unknown directive \(key): did you mean \(directive.name)?"
        }
        return "unknown directive \(key) (expected one of \(allCases.map(\.name).joined(separator: ", ")))"
    }

    /// Levenshtein distance: insertions, deletions and substitutions.
    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A directive's value as lighttpd's configuration syntax gives it.
public enum ConfigValue: Sendable, CustomStringConvertible {
    case string(String)
    case integer(Int64)
    /// `( "a", "b" )` or `( "k" => "v", … )`; a nested list is kept only as a marker.
    case list([(key: String?, value: ConfigValue)])

    public var description: String {
        switch self {
        case .string(let text): "\"\(text)\""
        case .integer(let number): String(number)
        case .list(let entries):
            "("
                + entries.map { entry in
                    (entry.key.map { "\"\($0)\" => " } ?? "") + entry.value.description
                }.joined(separator: ", ") + ")"
        }
    }
}

/// A configuration error: names the directive, what was expected and the value found.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
