/// One identity value passed to the backend: a request header (`gatehouse.headers`) or an
/// environment variable (`gatehouse.env`) taken from a claim.
public struct IdentityField: Sendable {
    public let name: String
    public let claim: ClaimPath
    /// Sends the claim as JSON text (header names ending in `-Json`).
    public let asJSON: Bool

    public static let defaultHeaders = [IdentityField(name: "X-Auth-Subject", claim: ClaimPath("sub")!, asJSON: false)]
    public static let defaultEnvironment = [IdentityField(name: "REMOTE_USER", claim: ClaimPath("sub")!, asJSON: false)]

    /// gatehouse.headers (`asHeaders`) or gatehouse.env.
    static func compile(_ input: DirectiveInput, asHeaders: Bool) throws(ConfigError) -> [IdentityField] {
        let directiveName = input.name
        let value = input.value
        let example = asHeaders ? "( \"X-Auth-Subject\" => \"sub\" )" : "( \"REMOTE_USER\" => \"sub\" )"
        let failure = ConfigError("\(directiveName): expected a list of NAME => CLAIM like \(example), got \(value)")
        guard case .list(let entries) = value, !entries.isEmpty else { throw failure }
        var fields = [IdentityField]()
        for entry in entries {
            guard let name = entry.key, case .string(let claimText) = entry.value else { throw failure }
            guard let claim = ClaimPath(claimText) else {
                throw ConfigError(
                    "\(directiveName): \"\(name)\" => \"\(claimText)\": expected a claim name or dot path")
            }
            let valid = asHeaders ? isHeaderName(name) : isEnvironmentName(name)
            guard valid else {
                throw ConfigError(
                    "\(directiveName): \"\(name)\" is not a valid "
                        + (asHeaders
                            ? "header name"
                            : "environment variable name (expected upper-case letters, digits and \"_\", "
                                + "not starting with a digit, like \"AUTH_EMAIL\")"))
            }
            if asHeaders, reservedHeaders.contains(normalisedName(name)) {
                throw ConfigError(
                    "\(directiveName): \"\(name)\" carries the request itself (its framing, connection, "
                        + "credentials, host or body type), so a claim must never stand in for it; "
                        + "choose a name of your own, like \"X-Auth-\(name)\"")
            }
            if !asHeaders,
                reservedEnvironment.contains(name) || name.hasPrefix("HTTP_") || name.hasPrefix("SSL_")
            {
                throw ConfigError(
                    "\(directiveName): \"\(name)\" is set by lighttpd itself (or by a request header) "
                        + "for CGI/FastCGI backends; choose a name of your own, like \"AUTH_\(name)\"")
            }
            if !asHeaders,
                runtimeEnvironment.contains(name) || runtimePrefixes.contains(where: { name.hasPrefix($0) })
            {
                throw ConfigError(
                    "\(directiveName): \"\(name)\" changes how the backend's programs run (read by the "
                        + "loader, a shell, the C library or an interpreter), so a claim must never set it; "
                        + "choose a name of your own, like \"AUTH_\(name)\"")
            }
            if let clash = fields.first(where: { normalisedName($0.name) == normalisedName(name) }) {
                throw ConfigError(
                    "\(directiveName): \"\(name)\" and \"\(clash.name)\" are the same name to a CGI backend")
            }
            let asJSON = asHeaders && name.lowercased().hasSuffix("-json")
            fields.append(IdentityField(name: name, claim: claim, asJSON: asJSON))
        }
        return fields
    }

    /// CGI variables lighttpd sets from the request or the server (RFC 3875 §4.1, and HTTPS;
    /// also every HTTP_* and mod_openssl's SSL_*): a claim must never stand in for them.
    /// REMOTE_USER is Gatehouse's to set.
    static let reservedEnvironment: Set<String> = [
        "AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "DOCUMENT_ROOT", "GATEWAY_INTERFACE", "HTTPS", "PATH_INFO",
        "PATH_TRANSLATED", "QUERY_STRING", "REDIRECT_STATUS", "REDIRECT_URI", "REMOTE_ADDR", "REMOTE_HOST",
        "REMOTE_PORT", "REQUEST_METHOD", "REQUEST_SCHEME", "REQUEST_URI", "SCRIPT_FILENAME", "SCRIPT_NAME",
        "SERVER_ADDR", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE",
    ]

    /// Request headers that make the request what it is: its framing and connection (RFC 9112 §6,
    /// RFC 9110 §7.6.1: hop-by-hop), its credentials, its host and the type and coding of its body
    /// (which CGI passes as CONTENT_TYPE). In the form `normalisedName` gives, so `content_length`
    /// is refused too.
    static let reservedHeaders: Set<[UInt8]> = Set(
        [
            "Authorization", "Proxy-Authorization", "Cookie", "Host", "Content-Length", "Content-Type",
            "Content-Encoding", "Transfer-Encoding", "TE", "Trailer", "Connection", "Keep-Alive",
            "Proxy-Connection", "Upgrade", "Expect", "HTTP2-Settings",
        ].map(normalisedName))

    /// Environment variables that change how a program runs rather than what it is told: read by the
    /// dynamic loader (LD_PRELOAD loads a library), shells (BASH_ENV and ENV name a file to run, IFS and
    /// PATH change every command), the C library (locale, time zone, resolver, temporary files) and
    /// interpreters (PHP_VALUE sets php.ini values through FastCGI, PYTHONPATH, PERL5OPT, NODE_OPTIONS),
    /// and proxies outgoing requests read (HTTPS_PROXY; HTTP_* is refused already).
    static let runtimeEnvironment: Set<String> = [
        "PATH", "IFS", "HOME", "SHELL", "ENV", "CDPATH", "PS4", "PROMPT_COMMAND", "SHELLOPTS", "BASHOPTS",
        "GLOBIGNORE", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TMP", "TEMP", "USER", "LOGNAME", "PWD", "OLDPWD",
        "TERM", "TERMINFO", "LOCPATH", "NLSPATH", "HOSTALIASES", "LOCALDOMAIN", "RES_OPTIONS", "PHPRC",
        "CLASSPATH", "OPENSSL_CONF", "OPENSSL_ENGINES", "SSLKEYLOGFILE", "HTTPS_PROXY", "ALL_PROXY",
        "NO_PROXY", "FTP_PROXY", "EDITOR", "VISUAL", "PAGER",
    ]
    static let runtimePrefixes = [
        "LD_", "DYLD_", "BASH_", "GCONV_", "MALLOC_", "GLIBC_", "LC_", "XDG_", "PHP_", "PYTHON", "PERL", "RUBY",
        "NODE_", "JAVA_", "_JAVA_", "JDK_", "GIT_",
    ]

    /// RFC 9110 token characters.
    static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
    }

    /// `[A-Z_][A-Z0-9_]*`: lower-case names are left to the programs themselves (`http_proxy`).
    static func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(0x30...0x39).contains(first) else { return false }
        return name.utf8.allSatisfy {
            (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || $0 == UInt8(ascii: "_")
        }
    }

    /// How a CGI/FastCGI backend sees a header name: letters and digits (case-folded), every
    /// other character as `_`. `X-Auth-Subject`, `x_auth_subject` and `X.Auth.Subject` are one.
    public static func normalisedName(_ name: String) -> [UInt8] {
        name.utf8.map { byte in
            switch byte {
            case 0x41...0x5A: byte | 0x20
            case 0x30...0x39, 0x61...0x7A: byte
            default: UInt8(ascii: "_")
            }
        }
    }

    /// The text to send for a claim, or nil when the token lacks it. Throws when the claim holds
    /// something that would read differently downstream: a control character, a leading or
    /// trailing space (a reader that trims sees another value), or a comma in an element of a
    /// list (joined with ", "). `isList`: the claim is one Gatehouse reads as a list of names,
    /// so a string there is a list of one and may not hold the separator either.
    func render(from claims: JSONObject, isList: Bool) throws(TokenError) -> String? {
        guard let value = JSON.object(claims).value(atPath: claim) else { return nil }
        if asJSON { return value.serialized }
        switch value {
        case .null: return nil
        case .string(let text):
            try IdentityField.checkSafe(text, list: isList, field: self)
            return text
        case .array(let elements):
            var parts = [String]()
            for element in elements {
                guard let part = try IdentityField.scalarText(element, field: self) else { continue }
                try IdentityField.checkSafe(part, list: true, field: self)
                parts.append(part)
            }
            return parts.joined(separator: ", ")
        case .object:
            return value.serialized
        default:
            return try IdentityField.scalarText(value, field: self)
        }
    }

    private static func scalarText(_ value: JSON, field: IdentityField) throws(TokenError) -> String? {
        switch value {
        case .string(let text): text
        case .integer(let number): String(number)
        case .real(let number): "\(number)"
        case .bool(let flag): flag ? "true" : "false"
        case .null: nil
        case .array, .object:
            throw TokenError(.unsafeClaimValue, "claim \"\(field.claim)\" nests lists or objects; send it as JSON")
        }
    }

    private static func checkSafe(_ text: String, list: Bool, field: IdentityField) throws(TokenError) {
        for byte in text.utf8 where byte < 0x20 || byte == 0x7F || (list && byte == UInt8(ascii: ",")) {
            throw TokenError(
                .unsafeClaimValue,
                byte == UInt8(ascii: ",")
                    ? "claim \"\(field.claim)\" has a list element with a comma"
                    : "claim \"\(field.claim)\" holds a control character")
        }
        if text.utf8.first == 0x20 || text.utf8.last == 0x20 {
            throw TokenError(.unsafeClaimValue, "claim \"\(field.claim)\" has a leading or trailing space")
        }
    }
}
