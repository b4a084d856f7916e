/// The keys a token may be verified with: a JWKS (RFC 7517 §5), one JWK, or one PEM public key.
/// A key that is not for verifying signatures (`"use": "enc"`, an encryption `alg`, a `kty` or
/// curve the module does not know) is skipped with a warning naming it, as RFC 7517 §5 asks;
/// every other key is checked when the set loads, and one bad key, private key material or a
/// set with no usable key refuses the whole set, naming the key.
public struct KeySet: Sendable {
    public let keys: [VerificationKey]
    /// One line per skipped key: which key, and why it cannot verify tokens.
    public let skipped: [String]

    public init(keys: [VerificationKey], skipped: [String] = []) {
        self.keys = keys
        self.skipped = skipped
    }

    /// Members that only a private key has: a file holding them is a leaked secret, not a key set.
    private static let privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth"]

    /// Reads a key file: PEM when it starts with `-----BEGIN`, JSON (a JWKS or one JWK) otherwise.
    public static func load(path: String) throws(KeyError) -> KeySet {
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path: path, limit: 1 << 20)
        } catch {
            throw KeyError("cannot read \(path): \(error)")
        }
        return try parse(bytes, source: path)
    }

    /// Reads an HMAC secret (`gatehouse.hmac-secret-file`): the file's bytes, less a final line
    /// break. It enables HS256/384/512 for the algorithms its length allows.
    public static func loadSecret(path: String) throws(KeyError) -> KeySet {
        var bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path: path, limit: 4096)
        } catch {
            throw KeyError("cannot read \(path): \(error)")
        }
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        return KeySet(keys: [try VerificationKey.hmac(secret: bytes, id: nil, algorithm: nil, label: path)])
    }

    public static func parse(_ bytes: [UInt8], source: String) throws(KeyError) -> KeySet {
        let start = bytes.firstIndex { ![0x20, 0x09, 0x0a, 0x0d].contains($0) } ?? bytes.endIndex
        if bytes[start...].starts(with: "-----BEGIN".utf8) {
            return KeySet(keys: [try VerificationKey.pem(bytes, label: "\(source): PEM key")])
        }
        let document: JSON
        switch JSON.parse(bytes) {
        case .success(let value): document = value
        case .failure(let error): throw KeyError("\(source): not a PEM key and not valid JSON: \(error.message)")
        }
        guard let object = document.objectValue else {
            throw KeyError("\(source): expected a JWKS object {\"keys\": [...]} or one JWK object")
        }
        guard let list = object["keys"] else {
            let label = "\(source): key"
            switch try accept(object, label: label) {
            case .skipped(let reason): throw KeyError("\(label): \(reason), and there is no other key")
            case .key(let key): return KeySet(keys: [key])
            }
        }
        guard case .array(let elements) = list, !elements.isEmpty else {
            throw KeyError("\(source): \"keys\" must be a non-empty array of JWK objects")
        }
        var keys = [VerificationKey]()
        var skipped = [String]()
        for (index, element) in elements.enumerated() {
            var label = "\(source): key #\(index + 1)"
            if case .object(let jwk) = element, let kid = jwk["kid"]?.stringValue { label += " (kid \"\(kid)\")" }
            guard case .object(let jwk) = element else { throw KeyError("\(label): not a JSON object") }
            let key: VerificationKey
            switch try accept(jwk, label: label) {
            case .skipped(let reason):
                skipped.append("\(label): skipped, \(reason)")
                continue
            case .key(let accepted): key = accepted
            }
            if let kid = key.id, keys.contains(where: { $0.id?.sameBytes(kid) == true }) {
                throw KeyError("\(label): duplicate kid; a kid must name exactly one key")
            }
            keys.append(key)
        }
        guard !keys.isEmpty else {
            throw KeyError("\(source): no key can verify signatures (" + skipped.joined(separator: "; ") + ")")
        }
        return KeySet(keys: keys, skipped: skipped)
    }

    /// What becomes of one JWK.
    public enum Acceptance {
        case key(VerificationKey)
        /// Left out, and why.
        case skipped(String)
    }

    /// The one rule for accepting a JWK, for key files and `gatehouse jwks fetch`: the key, or why it
    /// is left out. Throws for private key material, and for a signature key the module cannot load
    /// (a key file holding one is refused). `published`: the key comes from a provider's public JWKS
    /// (`jwks fetch`), where a symmetric key is readable by anyone, so never trusted, and a key that
    /// cannot load is left out instead of refusing the file.
    public static func accept(
        _ jwk: JSONObject, label: String, published: Bool = false
    ) throws(KeyError)
        -> Acceptance
    {
        if let reason = try unusable(jwk, label: label) { return .skipped(reason) }
        if published, jwk["kty"]?.stringValue == "oct" {
            return .skipped("a symmetric key published for anyone to read can sign forged tokens")
        }
        do {
            return .key(try key(from: jwk, label: label))
        } catch {
            guard published else { throw error }
            let prefix = label + ": "
            return .skipped(
                error.description.hasPrefix(prefix)
                    ? String(error.description.dropFirst(prefix.count)) : error.description)
        }
    }

    /// Why a JWK is not for verifying signatures, or nil when it is one the module verifies
    /// with (then `key(from:label:)` checks it). RFC 7517 §5: members of a set whose `kty`,
    /// use or values are not understood are ignored. Private key material refuses, even in a
    /// key that would be skipped: whoever published it leaked a secret.
    static func unusable(_ jwk: JSONObject, label: String) throws(KeyError) -> String? {
        let kty = jwk["kty"]?.stringValue
        if kty != "oct", let member = privateMembers.first(where: { jwk[$0] != nil }) {
            throw KeyError("\(label): holds private key material (\"\(member)\"); publish only the public key")
        }
        if let use = jwk["use"]?.stringValue, use != "sig" {
            return "\"use\" is \"\(use)\"; only signature keys (\"sig\") verify tokens"
        }
        if case .array(let operations)? = jwk["key_ops"], operations.allSatisfy({ $0.stringValue != nil }),
            !operations.contains(where: { $0.stringValue == "verify" })
        {
            return "\"key_ops\" does not include \"verify\""
        }
        if let kty, !["RSA", "EC", "OKP", "oct"].contains(kty) {
            return "\"kty\" \"\(kty)\" is not a key type the module verifies with (RSA, EC, OKP or oct)"
        }
        if let alg = jwk["alg"]?.stringValue, JWSAlgorithm(name: alg) == nil {
            return "\"alg\" \"\(alg)\" is not a signature algorithm the module verifies ("
                + JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ") + ")"
        }
        if let crv = jwk["crv"]?.stringValue,
            kty == "EC" && ECCurve(jwkName: crv) == nil || kty == "OKP" && crv != "Ed25519"
        {
            return "\"crv\" \"\(crv)\" is not a signature curve the module verifies with "
                + (kty == "EC" ? "(P-256, P-384 or P-521)" : "(Ed25519)")
        }
        return nil
    }

    /// One JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2) that `unusable` did not skip.
    static func key(from jwk: JSONObject, label: String) throws(KeyError) -> VerificationKey {
        func string(_ name: String) throws(KeyError) -> String? {
            guard let value = jwk[name] else { return nil }
            guard let text = value.stringValue else { throw KeyError("\(label): \"\(name)\" must be a string") }
            return text
        }
        func bytes(_ name: String) throws(KeyError) -> [UInt8] {
            guard let text = try string(name) else { throw KeyError("\(label): \"\(name)\" is missing") }
            guard let decoded = Base64URL.decode(text), !decoded.isEmpty else {
                throw KeyError("\(label): \"\(name)\" is not canonical unpadded base64url")
            }
            return decoded
        }

        guard let kty = try string("kty") else { throw KeyError("\(label): \"kty\" is missing") }
        _ = try string("use")  // a string other than "sig" was skipped; anything else is malformed
        if let ops = jwk["key_ops"] {
            guard case .array(let list) = ops, list.allSatisfy({ $0.stringValue != nil }) else {
                throw KeyError("\(label): \"key_ops\" must be an array of strings")
            }
        }
        let id = try string("kid")
        // `unusable` skipped names it does not know; a known one must fit the key (below).
        let algorithm = try string("alg").flatMap { JWSAlgorithm(name: $0) }

        let key: VerificationKey
        switch kty {
        case "RSA":
            key = try .rsa(modulus: bytes("n"), exponent: bytes("e"), id: id, algorithm: algorithm, label: label)
        case "EC":
            guard let name = try string("crv"), let curve = ECCurve(jwkName: name) else {
                throw KeyError("\(label): \"crv\" must be P-256, P-384 or P-521")
            }
            key = try .ec(curve: curve, x: bytes("x"), y: bytes("y"), id: id, algorithm: algorithm, label: label)
        case "OKP":
            guard try string("crv") == "Ed25519" else { throw KeyError("\(label): \"crv\" must be Ed25519") }
            key = try .ed25519(publicKey: bytes("x"), id: id, algorithm: algorithm, label: label)
        case "oct":
            key = try .hmac(secret: bytes("k"), id: id, algorithm: algorithm, label: label)
        default:
            throw KeyError("\(label): unsupported \"kty\" \"\(kty)\" (expected RSA, EC, OKP or oct)")
        }
        if let algorithm, !key.accepts(algorithm) {
            throw KeyError("\(label): \"alg\" \(algorithm.rawValue) does not fit a key of this type")
        }
        return key
    }

    /// The keys that may verify a token with this `kid` and `alg`: the key with that `kid`, or,
    /// when no key has it (or the token names none), the keys without a `kid` (a PEM key, say)
    /// whose type fits `alg`. `kidKnown` tells `key_algorithm_mismatch` from `unknown_key`.
    func candidates(kid: String?, algorithm: JWSAlgorithm) -> (keys: [VerificationKey], kidKnown: Bool) {
        if let kid, let key = keys.first(where: { $0.id?.sameBytes(kid) == true }) {
            return (key.accepts(algorithm) ? [key] : [], true)
        }
        return (keys.filter { (kid == nil || $0.id == nil) && $0.accepts(algorithm) }, false)
    }
}
