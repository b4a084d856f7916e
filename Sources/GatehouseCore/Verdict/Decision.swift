/// The outcome for one request: the verdict, what it does to the request (filled by the steps that
/// attach identity, limit, answer a preflight; completed into the full `Effects` by `Effects(of:)`)
/// and what explains it.
public struct Decision: Sendable {
    public var verdict: Verdict
    public var effects: Effects
    public var diagnostics: Diagnostics
    /// The token as the request presented it (for the audit's `token_sha256`; never logged).
    public internal(set) var token: String?
    /// The verified claims (for the audit's `sub`, `iss`, `jti`).
    var claims: JSONObject?
    /// The off-loop job (gatehouse.verify-threads) verifying the request's token: the decision is
    /// not taken yet; the request waits for the job, then is decided again.
    public internal(set) var awaiting: UInt64?

    init(verdict: Verdict, effects: Effects, diagnostics: Diagnostics) {
        self.verdict = verdict
        self.effects = effects
        self.diagnostics = diagnostics
    }
}

/// Whether a request passes, and how a refusal answers.
public struct Verdict: Sendable {
    /// The HTTP status to answer with; 0 lets the request through; a 2xx is the module's own
    /// answer (a CORS preflight's 204); any other is a refusal.
    public var status = 0
    public var reason = ReasonCode.allowed
    /// The rule's pattern, or "gatehouse.default".
    public var rule = "gatehouse.default"
    /// The token's problem, for `error_description` and logs.
    public var message: String?
    /// The challenge of a 401, or of a 403 for insufficient scope.
    public var wwwAuthenticate: String?

    /// Not refused: let through, or answered by the module itself (a preflight's 204).
    public var allowed: Bool { status < 300 }
}

/// What explains a decision, for logs, the CLI and the administrator.
public struct Diagnostics: Sendable {
    /// Each step of the decision, for debug logs and the CLI; nil when not asked for (the
    /// module's hot path builds no strings).
    public var explanation: [String]?
    /// A problem the administrator should hear of whatever the outcome (a claim that cannot be
    /// passed on safely).
    public var problem: String?
    /// Under gatehouse.mode = "report-only": the status enforcing would have answered.
    public var wouldRefuse: Int?
    /// The rules chosen and the `and` / `or` operands' truths, for `gatehouse test --coverage`; nil
    /// in the module.
    public var coverage: Coverage?
}
