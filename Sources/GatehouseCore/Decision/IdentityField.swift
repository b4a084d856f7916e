/// One identity value passed to the backend: a request header (`gatehouse.headers`) or an
/// environment variable (`gatehouse.env`) taken from a claim.
public struct IdentityField: Sendable {
    public let name: String
    public let claim: ClaimPath
    /// Sends the claim as JSON text (header names ending in `-Json`).
    public let asJSON: Bool

    public static let defaultHeaders = [IdentityField(name: "X-Auth-Subject", claim: ClaimPath("sub")!, asJSON: false)]
    public static let defaultEnvironment = [IdentityField(name: "REMOTE_USER", claim: ClaimPath("sub")!, asJSON: false)]

    static func compile(_ directive: Directive, _ value: ConfigValue) throws(ConfigError) -> [IdentityField] {
        let example = directive == .headers ? "( \"X-Auth-Subject\" => \"sub\" )" : "( \"REMOTE_USER\" => \"sub\" )"
        let failure = ConfigError("\(directive.name): expected a list of NAME => CLAIM like \(example), got \(value)")
        guard case .list(let entries) = value, !entries.isEmpty else { throw failure }
        var fields = [IdentityField]()
        for entry in entries {
            guard let name = entry.key, case .string(let claimText) = entry.value else { throw failure }
            guard let claim = ClaimPath(claimText) else {
                throw ConfigError(
                    "\(directive.name): \"\(name)\" => \"\(claimText)\": expected a claim name or dot path")
            }
            let valid = directive == .headers ? isHeaderName(name) : isEnvironmentName(name)
            guard valid else {
                throw ConfigError(
                    "\(directive.name): \"\(name)\" is not a valid "
                        + (directive == .headers ? "header name" : "environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
                )
            }
            let upper = name.uppercased()
            if directive == .env,
                reservedEnvironment.contains(upper) || upper.hasPrefix("HTTP_") || upper.hasPrefix("SSL_")
            {
                throw ConfigError(
                    "\(directive.name): \"\(name)\" is set by lighttpd itself (or by a request header) "
                        + "for CGI/FastCGI backends; choose another name")
            }
            if let clash = fields.first(where: { normalisedName($0.name) == normalisedName(name) }) {
                throw ConfigError(
                    "\(directive.name): \"\(name)\" and \"\(clash.name)\" are the same name to a CGI backend")
            }
            let asJSON = directive == .headers && name.lowercased().hasSuffix("-json")
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

    /// RFC 9110 token characters.
    static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
    }

    static func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(0x30...0x39).contains(first) else { return false }
        return name.utf8.allSatisfy {
            (0x30...0x39).contains($0) || (0x41...0x5A).contains($0)
                || (0x61...0x7A).contains($0) || $0 == UInt8(ascii: "_")
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
