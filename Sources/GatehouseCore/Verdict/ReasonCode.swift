/// The stable reason codes (docs/security.md, "Reason codes"), shared by the CLI, the module's logs and the audit log.
public enum ReasonCode: String, Sendable, CaseIterable {
    case allowed
    case malformed
    case tokenTooLarge = "token_too_large"
    case unsupportedAlgorithm = "unsupported_algorithm"
    case algorithmNotAllowed = "algorithm_not_allowed"
    case unknownKey = "unknown_key"
    case keyAlgorithmMismatch = "key_algorithm_mismatch"
    case badSignature = "bad_signature"
    case criticalHeader = "critical_header"
    case wrongType = "wrong_type"
    case expired
    case notYetValid = "not_yet_valid"
    case issuedInFuture = "issued_in_future"
    case tooOld = "too_old"
    case wrongIssuer = "wrong_issuer"
    case wrongAudience = "wrong_audience"
    case missingClaim = "missing_claim"
    case noToken = "no_token"
    case policyDenied = "policy_denied"
    case noRule = "no_rule"
    case rateLimited = "rate_limited"
    case unsafeClaimValue = "unsafe_claim_value"
    /// A valid token (or session) whose claim has another type than gatehouse.claims-schema declares: 403.
    case claimTypeMismatch = "claim_type_mismatch"
    /// A path one backend would read as another (gatehouse.path-checks): 400.
    case unsafePath = "unsafe_path"
    /// Two request headers that CGI reads as one token header (`X-Token` and `X_Token`): 400.
    case ambiguousHeader = "ambiguous_header"
    /// A CORS preflight from an origin, or for a method, gatehouse.cors-preflight does not list.
    case preflightRefused = "preflight_refused"
    /// The token is not in the cache and the queue of gatehouse.verify-queue is full: 503 with Retry-After.
    case busy
    /// The request waited for a verify thread and its deadline passed before the signature was verified: 504.
    case verificationTimeout = "verification_timeout"
}

/// Why a token was refused: a stable code and a message for people. The message never
/// quotes the token or any other client-supplied bytes.
public struct TokenError: Error, Sendable, Equatable {
    public let code: ReasonCode
    public let message: String

    init(_ code: ReasonCode, _ message: String) {
        self.code = code
        self.message = message
    }
}
