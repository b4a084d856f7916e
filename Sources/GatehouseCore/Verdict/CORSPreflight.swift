/// `gatehouse.cors-preflight`: the module answers CORS preflights itself (Fetch standard,
/// "CORS protocol"): a preflight carries no credentials, so it is never forwarded to a backend
/// that might act on it; it is refused on paths whose rule is `deny` and counts for rate limits.
public struct CORSPreflight: Sendable {
    /// Exact origins (`https://app.example.com`), or nil for any origin (`"*"`).
    public let origins: [String]?
    public let methods: [String]
    public let headers: [String]
    public let maxAge: Int64
    public let credentials: Bool

    static let expected =
        "( \"origins\" => \"https://app.example.com https://admin.example.com\" (or \"*\"), "
        + "\"methods\" => \"GET, POST\", \"headers\" => \"Authorization, Content-Type\", \"max-age\" => 600, "
        + "\"credentials\" => \"enable\" ), or \"deny\""

    /// nil for "deny" (the default: preflights are decided like any request).
    static func compile(_ value: ConfigValue, name: String) throws(ConfigError) -> CORSPreflight? {
        func fail(_ why: String) -> ConfigError { ConfigError("\(name): \(why) (expected \(expected))") }
        if case .string("deny") = value { return nil }
        if case .string("allow") = value {
            throw fail(
                "\"allow\" let preflights through to the backend without a token; the module now answers them "
                    + "itself: list the origins that may send them")
        }
        guard case .list(let entries) = value, !entries.isEmpty else { throw fail("got \(value)") }
        var origins: [String]??
        var methods = ["GET", "HEAD", "POST"]
        var headers = ["Authorization", "Content-Type"]
        var maxAge: Int64 = 600
        var credentials = false
        for entry in entries {
            let key = entry.key ?? ""
            switch (key, entry.value) {
            case ("origins", .string(let text)):
                let list = words(text)
                if list == ["*"] {
                    origins = .some(nil)
                    continue
                }
                for origin in list where !isOrigin(origin) {
                    throw fail("\"origins\": \"\(origin)\" is not an origin like https://app.example.com or \"*\" alone")
                }
                guard !list.isEmpty else { throw fail("\"origins\" is empty") }
                origins = .some(list)
            case ("methods", .string(let text)):
                methods = words(text)
                for method in methods
                where method.isEmpty || !method.utf8.allSatisfy({ (0x41...0x5A).contains($0) || $0 == 0x2D }) {
                    throw fail("\"methods\": \"\(method)\" is not an upper-case method name")
                }
            case ("headers", .string(let text)):
                headers = words(text)
                for header in headers where !IdentityField.isHeaderName(header) {
                    throw fail("\"headers\": \"\(header)\" is not a header name")
                }
            case ("max-age", .integer(let seconds)) where (0...86_400).contains(seconds):
                maxAge = seconds
            case ("credentials", .string(let text)) where text == "enable" || text == "disable":
                credentials = text == "enable"
            default:
                throw fail("\(entry.key.map { "\"\($0)\" => " } ?? "")\(entry.value) is not understood")
            }
        }
        guard let chosen = origins else { throw fail("\"origins\" is missing") }
        if chosen == nil, credentials {
            throw fail("\"origins\" => \"*\" cannot go with \"credentials\" => \"enable\": list the origins")
        }
        return CORSPreflight(origins: chosen, methods: methods, headers: headers, maxAge: maxAge,
                             credentials: credentials)
    }

    /// Whether `request` is a CORS preflight: OPTIONS with `Origin` and
    /// `Access-Control-Request-Method`.
    static func isPreflight(_ request: HTTPRequest) -> Bool {
        request.method == "OPTIONS" && request.header("Origin") != nil
            && request.header("Access-Control-Request-Method") != nil
    }

    /// The answer's headers, or why the preflight is refused.
    func answer(origin: String, method: String) -> Result<[(name: String, value: String)], TokenError> {
        if let origins, !origins.contains(where: { $0.sameBytes(origin) }) {
            return .failure(TokenError(.preflightRefused, "the origin is not one gatehouse.cors-preflight lists"))
        }
        guard methods.contains(where: { $0.sameBytes(method) }) else {
            return .failure(TokenError(.preflightRefused, "the method is not one gatehouse.cors-preflight lists"))
        }
        var fields: [(name: String, value: String)] = [
            ("Access-Control-Allow-Origin", origins == nil ? "*" : origin),
            ("Access-Control-Allow-Methods", methods.joined(separator: ", ")),
            ("Access-Control-Allow-Headers", headers.joined(separator: ", ")),
            ("Access-Control-Max-Age", String(maxAge)),
        ]
        if credentials { fields.append(("Access-Control-Allow-Credentials", "true")) }
        if origins != nil { fields.append(("Vary", "Origin")) }
        return .success(fields)
    }

    private static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
    }

    /// scheme://host[:port], nothing after it (an origin as a browser sends it).
    private static func isOrigin(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard text.hasPrefix("https://") || text.hasPrefix("http://") else { return false }
        let rest = bytes.drop { $0 != UInt8(ascii: "/") }.dropFirst(2)
        return !rest.isEmpty
            && rest.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "[")
                    || byte == UInt8(ascii: "]")
            }
    }
}
