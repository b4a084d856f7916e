/// The keys a token may be verified with: a JWKS (RFC 7517 §5), one JWK, or one PEM public key.
/// Every key is checked when the set loads; one bad key refuses the whole set, naming the key.
public struct KeySet: Sendable {
    public let keys: [VerificationKey]

    public init(keys: [VerificationKey]) {
        self.keys = keys
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
            return KeySet(keys: [try key(from: object, label: "\(source): key")])
        }
        guard case .array(let elements) = list, !elements.isEmpty else {
            throw KeyError("\(source): \"keys\" must be a non-empty array of JWK objects")
        }
        var keys = [VerificationKey]()
        for (index, element) in elements.enumerated() {
            var label = "\(source): key #\(index + 1)"
            if case .object(let jwk) = element, let kid = jwk["kid"]?.stringValue { label += " (kid \"\(kid)\")" }
            guard case .object(let jwk) = element else { throw KeyError("\(label): not a JSON object") }
            let key = try key(from: jwk, label: label)
            if let kid = key.id, keys.contains(where: { $0.id?.sameBytes(kid) == true }) {
                throw KeyError("\(label): duplicate kid; a kid must name exactly one key")
            }
            keys.append(key)
        }
        return KeySet(keys: keys)
    }

    /// One JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2).
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
        if let use = try string("use"), use != "sig" {
            throw KeyError("\(label): \"use\" is \"\(use)\"; only signature keys (\"sig\") may verify tokens")
        }
        if let ops = jwk["key_ops"] {
            guard case .array(let list) = ops, list.allSatisfy({ $0.stringValue != nil }) else {
                throw KeyError("\(label): \"key_ops\" must be an array of strings")
            }
            guard list.contains(where: { $0.stringValue == "verify" }) else {
                throw KeyError("\(label): \"key_ops\" does not include \"verify\"")
            }
        }
        if kty != "oct", let member = privateMembers.first(where: { jwk[$0] != nil }) {
            throw KeyError("\(label): holds private key material (\"\(member)\"); publish only the public key")
        }
        let id = try string("kid")
        var algorithm: JWSAlgorithm?
        if let name = try string("alg") {
            guard let known = JWSAlgorithm(name: name) else {
                throw KeyError(
                    "\(label): unsupported \"alg\" \"\(name)\" (expected one of "
                        + JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            algorithm = known
        }

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
