/// What lighttpd sees of a request, for a decision.
public struct HTTPRequest {
    public var method: String
    /// lighttpd's normalised path (decoded, dot segments resolved), as the bytes lighttpd holds:
    /// rules match these bytes, so a path that is not UTF-8 is matched as sent, never as U+FFFD.
    public var pathBytes: [UInt8]
    /// The path the client asked for, normalised the same way, when lighttpd serves another one
    /// for it (a `url.rewrite`, an error handler's re-dispatch); nil otherwise.
    public var originalPathBytes: [UInt8]?
    /// The path for logs, explanations and the audit record (bytes that are not UTF-8 shown as U+FFFD).
    public var path: String { String(decoding: pathBytes, as: UTF8.self) }
    public var originalPath: String? { originalPathBytes.map { String(decoding: $0, as: UTF8.self) } }
    public var host: String
    public var remoteIP: String
    /// The query string as the client sent it (after '?').
    public var query: String
    /// `server.force-lowercase-filenames`: lighttpd serves `/ADMIN/x` as `/admin/x`.
    public var lowercasePaths: Bool
    /// Looks up a request header by name (case-insensitive); nil when absent.
    public var header: (String) -> String?
    /// How many request headers CGI reads as this name (`X-Token` and `X_Token` are one name
    /// there); by default, 1 when `header` finds it.
    public var headerCount: (String) -> Int

    public init(
        method: String, path: String, originalPath: String? = nil, host: String, remoteIP: String,
        query: String = "", lowercasePaths: Bool = false, header: @escaping (String) -> String?,
        headerCount: ((String) -> Int)? = nil
    ) {
        self.init(
            method: method, pathBytes: Array(path.utf8), originalPathBytes: originalPath.map { Array($0.utf8) },
            host: host, remoteIP: remoteIP, query: query, lowercasePaths: lowercasePaths, header: header,
            headerCount: headerCount)
    }

    public init(
        method: String, pathBytes: [UInt8], originalPathBytes: [UInt8]?, host: String, remoteIP: String,
        query: String, lowercasePaths: Bool, header: @escaping (String) -> String?,
        headerCount: ((String) -> Int)?
    ) {
        self.query = query
        self.method = method
        self.pathBytes = pathBytes
        self.originalPathBytes = originalPathBytes
        self.host = host
        self.remoteIP = remoteIP
        self.lowercasePaths = lowercasePaths
        self.header = header
        self.headerCount = headerCount ?? { header($0) == nil ? 0 : 1 }
    }
}

/// The outcome for one request, with everything the shim or the CLI needs to act on it or
/// to explain it.
public struct Decision: Sendable {
    /// The HTTP status to answer with; 0 lets the request through; a 2xx is the module's own
    /// answer (a CORS preflight's 204); any other is a refusal.
    public var status: Int
    public var reason: ReasonCode
    /// The rule's pattern, or "gatehouse.default".
    public var rule: String
    /// The token's problem, for `error_description` and logs.
    public var message: String?
    public var wwwAuthenticate: String?
    /// Request headers to remove whatever the outcome (by CGI-normalised name).
    public var stripHeaders: [String]
    /// Token headers whose other spellings (same CGI name, another name) are removed.
    public var stripAliases: [String] = []
    public var requestHeaders: [(name: String, value: String)] = []
    /// Response headers besides WWW-Authenticate (a 429's Retry-After and RateLimit-*).
    public var responseHeaders: [(name: String, value: String)] = []
    public var environment: [(name: String, value: String)] = []
    /// Each step of the decision, for debug logs and the CLI; nil when not asked for (the
    /// module's hot path builds no strings).
    public var explanation: [String]?
    /// The token as the request presented it (for the audit's `token_sha256`; never logged).
    public internal(set) var token: String?
    /// The verified claims (for the audit's `sub`, `iss`, `jti`).
    var claims: JSONObject?
    /// A problem the administrator should hear of whatever the outcome (a claim that cannot be
    /// passed on safely).
    public var problem: String?
    /// Under gatehouse.mode = "report-only": the status enforcing would have answered.
    public var wouldRefuse: Int?

    /// Not refused: let through, or answered by the module itself (a preflight's 204).
    public var allowed: Bool { status < 300 }
}
