/// What lighttpd sees of a request, for a decision.
public struct HTTPRequest {
    public var method: String
    /// lighttpd's normalised path (decoded, dot segments resolved).
    public var path: String
    public var host: String
    public var remoteIP: String
    /// The query string as the client sent it (after '?').
    public var query: String
    /// Looks up a request header by name (case-insensitive); nil when absent.
    public var header: (String) -> String?

    public init(
        method: String, path: String, host: String, remoteIP: String, query: String = "",
        header: @escaping (String) -> String?
    ) {
        self.query = query
        self.method = method
        self.path = path
        self.host = host
        self.remoteIP = remoteIP
        self.header = header
    }
}

/// The outcome for one request, with everything the shim or the CLI needs to act on it or
/// to explain it.
public struct Decision: Sendable {
    /// The HTTP status to answer with; 0 lets the request through.
    public var status: Int
    public var reason: ReasonCode
    /// The rule's pattern, or "gatehouse.default".
    public var rule: String
    /// The token's problem, for `error_description` and logs.
    public var message: String?
    public var wwwAuthenticate: String?
    /// Request headers to remove whatever the outcome (by CGI-normalised name).
    public var stripHeaders: [String]
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

    public var allowed: Bool { status == 0 }
}
