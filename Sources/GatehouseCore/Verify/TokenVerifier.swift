#if canImport(Glibc)
    import Glibc
#endif

/// What a token must satisfy besides its signature: the token-related gatehouse.* directives.
public struct TokenRequirements: Sendable, Hashable {
    /// Accepted `iss` values, compared byte for byte; nil accepts any issuer (the CLI without --issuer).
    public var issuers: [String]?
    /// At least one must be in `aud`; nil accepts any audience (`gatehouse.audience = "*"`).
    public var audiences: [String]?
    public var algorithms: Set<JWSAlgorithm>
    /// Seconds of clock skew allowed on exp, nbf and iat.
    public var leeway: Int64
    public var maxTokenAge: Int64?
    /// The required `typ` header (RFC 9068 `at+jwt`, say), compared as a media type.
    public var tokenType: String?
    /// The claims a token verified for the token cache keeps (a Configuration sets what its context
    /// reads); `verify` without a cache keeps them all.
    public var claims = ClaimNames.all

    public init(
        issuers: [String]?, audiences: [String]?, algorithms: Set<JWSAlgorithm> = JWSAlgorithm.defaultAllowed,
        leeway: Int64 = 60, maxTokenAge: Int64? = nil, tokenType: String? = nil
    ) {
        self.issuers = issuers
        self.audiences = audiences
        self.algorithms = algorithms
        self.leeway = leeway
        self.maxTokenAge = maxTokenAge
        self.tokenType = tokenType
    }
}

/// A token whose signature verified: its JOSE header and its claims.
public struct VerifiedToken: Sendable {
    public let header: JSONObject
    public let claims: JSONObject
}

/// JWS compact serialization (RFC 7515 §7.1) verified the RFC 8725 way.
public enum TokenVerifier {
    /// Tokens longer than this are refused before any parsing.
    public static let maximumLength = 16 * 1024

    /// Checks the header and the signature. Returns the header and the payload's bytes
    /// (not parsed: `--signature-only` accepts any payload). Thread-safe: it shares nothing
    /// mutable (each verification takes a prepared OpenSSL context of its own from the key), so
    /// worker threads may verify at once.
    public static func verifySignature(
        _ token: UnsafeBufferPointer<UInt8>, keys: KeySet,
        algorithms: Set<JWSAlgorithm>, tokenType: String? = nil
    )
        -> Result<(header: JSONObject, payload: [UInt8], key: VerificationKey), TokenError>
    {
        guard token.count <= maximumLength else {
            return .failure(TokenError(.tokenTooLarge, "the token is longer than \(maximumLength) bytes"))
        }
        // Exactly two dots (RFC 7515 §7.1, no JWE, no JSON form); the parts only the base64url
        // alphabet (checked as they are decoded).
        guard let first = dot(in: token, from: 0), let second = dot(in: token, from: first + 1),
            dot(in: token, from: second + 1) == nil
        else { return .failure(malformed("a JWS has exactly three parts")) }
        let headerPart = UnsafeBufferPointer(rebasing: token[0..<first])
        let payloadPart = UnsafeBufferPointer(rebasing: token[(first + 1)..<second])
        let signaturePart = UnsafeBufferPointer(rebasing: token[(second + 1)...])

        guard let headerBytes = Base64URL.decode(headerPart),
            let payload = Base64URL.decode(payloadPart),
            let signature = Base64URL.decode(signaturePart)
        else {
            let outside = token.contains { !Base64URL.isAlphabet($0) && $0 != UInt8(ascii: ".") }
            return .failure(
                malformed(
                    outside
                        ? "the token holds a character outside base64url"
                        : "a part is not canonical unpadded base64url"))
        }
        guard !signature.isEmpty else { return .failure(malformed("the signature is empty")) }
        guard case .success(let headerJSON) = JSON.parse(headerBytes), let header = headerJSON.objectValue else {
            return .failure(malformed("the header is not a JSON object (or repeats a member)"))
        }

        let algorithm: JWSAlgorithm
        let kid: String?
        switch checkHeader(header, algorithms: algorithms, tokenType: tokenType) {
        case .success(let checked): (algorithm, kid) = checked
        case .failure(let error): return .failure(error)
        }
        // "jwk", "jku", "x5u" and "x5c" are never read: keys come from the configuration only.
        let (candidates, kidKnown) = keys.candidates(kid: kid, algorithm: algorithm)
        if candidates.isEmpty {
            return .failure(
                kidKnown
                    ? TokenError(.keyAlgorithmMismatch, "the key named by \"kid\" is not for this algorithm")
                    : TokenError(.unknownKey, "no configured key matches the token's \"kid\" and algorithm"))
        }
        let signingInput = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(token)[0..<second])
        guard
            let key = candidates.first(where: {
                $0.verify(signature: signature, over: signingInput, algorithm: algorithm)
            })
        else {
            return .failure(TokenError(.badSignature, "the signature does not verify"))
        }
        return .success((header, payload, key))
    }

    /// The index of the first "." at or after `start`.
    private static func dot(in token: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < token.count,
            let found = memchr(token.baseAddress! + start, Int32(UInt8(ascii: ".")), token.count - start)
        else { return nil }
        return token.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    /// The JOSE header's checks: `alg` allowed (exact spelling), no `crit`, the required `typ`,
    /// and a string `kid` if any.
    static func checkHeader(
        _ header: JSONObject, algorithms: Set<JWSAlgorithm>,
        tokenType: String?
    ) -> Result<(algorithm: JWSAlgorithm, kid: String?), TokenError> {
        guard case .string(let name)? = header["alg"] else {
            return .failure(malformed("the header has no \"alg\" string"))
        }
        guard let algorithm = JWSAlgorithm(name: name) else {
            return .failure(TokenError(.unsupportedAlgorithm, "the token's algorithm is not supported"))
        }
        // RFC 7515 §4.1.11: no extension is understood, so any "crit" is refused.
        if header["crit"] != nil {
            return .failure(TokenError(.criticalHeader, "the token has critical header parameters"))
        }
        if let error = checkAlgorithm(algorithm, type: header["typ"], algorithms: algorithms, tokenType: tokenType) {
            return .failure(error)
        }
        guard let value = header["kid"] else { return .success((algorithm, nil)) }
        guard case .string(let kid) = value else { return .failure(malformed("\"kid\" must be a string")) }
        return .success((algorithm, kid))
    }

    /// The checks of the header that depend on the context, so a cached token meets them again.
    static func checkAlgorithm(
        _ algorithm: JWSAlgorithm, type: JSON?, algorithms: Set<JWSAlgorithm>,
        tokenType: String?
    ) -> TokenError? {
        guard algorithms.contains(algorithm) else {
            return TokenError(.algorithmNotAllowed, "the token's algorithm is not allowed here")
        }
        if let required = tokenType {
            guard case .string(let typ)? = type, sameMediaType(typ, required) else {
                return TokenError(.wrongType, "the token's \"typ\" is not the required type")
            }
        }
        return nil
    }

    /// Signature, then claims (all of them). Thread-safe, like `verifySignature`.
    public static func verify(
        _ token: UnsafeBufferPointer<UInt8>, keys: KeySet, requirements: TokenRequirements,
        now: Int64
    ) -> Result<VerifiedToken, TokenError> {
        var everyClaim = requirements
        everyClaim.claims = .all
        return verifyInFull(token, keys: keys, requirements: everyClaim, now: now).map(\.token)
    }

    /// Signature, then claims (all of them). Thread-safe, like `verifySignature`.
    public static func verify(
        _ token: String, keys: KeySet, requirements: TokenRequirements, now: Int64
    ) -> Result<VerifiedToken, TokenError> {
        var bytes = token
        return bytes.withUTF8 { verify($0, keys: keys, requirements: requirements, now: now) }
    }

    /// Signature, then claims, through `cache`: a token whose signature verified before (with a
    /// key still in force) skips the crypto and the JSON parsing; the context's checks run again
    /// on what was read from it then. Returns the claims the cache keeps (`requirements.claims`, and
    /// those other contexts read), not the JOSE header. A cache
    /// is one thread's only (lighttpd's main thread in the module).
    public static func verify(
        _ token: String, keys: KeySet, requirements: TokenRequirements,
        now: Int64, cache: TokenCache
    ) -> Result<JSONObject, TokenError> {
        verified(token, keys: keys, requirements: requirements, now: now, cache: cache).map { $0.claims }
    }

    /// `verify`, giving the cache's entry (a new one, kept when the cache takes it).
    static func verified(
        _ token: String, keys: KeySet, requirements: TokenRequirements,
        now: Int64, cache: TokenCache?
    ) -> Result<CachedToken, TokenError> {
        if let cache, let known = cached(token, keys: keys, requirements: requirements, now: now, cache: cache) {
            return known
        }
        let requirements = cache?.keeping(requirements) ?? requirements
        var bytes = token
        let result = bytes.withUTF8 { verifyInFull($0, keys: keys, requirements: requirements, now: now) }
        switch result {
        case .success(let verified):
            let entry = CachedToken(verified)
            cache?.insert(token, entry, now: now)
            return .success(entry)
        case .failure(let error):
            return .failure(error)
        }
    }

    /// What the cache knows of `token` (its signature verified before, with a key still in force),
    /// checked against this context's requirements; nil when it must be verified in full.
    static func cached(
        _ token: String, keys: KeySet, requirements: TokenRequirements, now: Int64, cache: TokenCache
    ) -> Result<CachedToken, TokenError>? {
        guard let entry = cache.lookup(token, keys: keys, reading: requirements.claims, now: now) else { return nil }
        if let error = entry.facts.check(requirements, now: now) { return .failure(error) }
        return .success(entry)
    }

    /// Signature, then claims, without the cache: what a worker thread of gatehouse.verify-threads
    /// runs (it reads only its arguments; the keys' OpenSSL objects allow concurrent verification).
    /// Keeps the claims `requirements.claims` names; the payload's other members are checked as JSON
    /// and, but for those the checks read (`TokenFacts`), not converted.
    static func verifyInFull(
        _ token: UnsafeBufferPointer<UInt8>, keys: KeySet,
        requirements: TokenRequirements, now: Int64
    )
        -> Result<(token: VerifiedToken, facts: TokenFacts, key: VerificationKey), TokenError>
    {
        let header: JSONObject
        let payload: [UInt8]
        let key: VerificationKey
        switch verifySignature(
            token, keys: keys, algorithms: requirements.algorithms,
            tokenType: requirements.tokenType)
        {
        case .success(let parts): (header, payload, key) = parts
        case .failure(let error): return .failure(error)
        }
        let kept = requirements.claims
        let parsed = payload.withUnsafeBufferPointer { bytes in
            kept.isAll
                ? JSONReader.read(bytes)
                : JSONReader.read(bytes, keeping: { kept.contains($0) || TokenFacts.reads($0) })
        }
        guard case .success(let json) = parsed, let read = json.objectValue else {
            return .failure(malformed("the payload is not a JSON object (or repeats a member)"))
        }
        let facts: TokenFacts
        do {
            facts = try TokenFacts(header: header, claims: read, requirements: requirements)
        } catch {
            return .failure(error)
        }
        if let error = facts.check(requirements, now: now) { return .failure(error) }
        let claims = kept.isAll ? read : JSONObject(members: read.members.filter { kept.contains($0.key) })
        return .success((VerifiedToken(header: header, claims: claims), facts, key))
    }

    /// Media types compare case-insensitively, and `application/` may be left out (RFC 7515 §4.1.9).
    static func sameMediaType(_ a: String, _ b: String) -> Bool {
        func normalised(_ text: String) -> [UInt8] {
            var bytes = Array(text.utf8).map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
            let prefix = Array("application/".utf8)
            if bytes.starts(with: prefix) { bytes.removeFirst(prefix.count) }
            return bytes
        }
        return normalised(a) == normalised(b)
    }

    static func malformed(_ message: String) -> TokenError { TokenError(.malformed, message) }
}
