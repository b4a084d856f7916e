import ArgumentParser
import COpenSSL
import Foundation
import GatehouseCore

/// `gatehouse dev`: a test key and tokens signed with it, for trying Gatehouse
/// without an identity provider. Nothing here is for production.
struct Dev: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "FOR TESTING ONLY: make a signing key and mint tokens with it.",
        discussion: """
            These commands stand in for an identity provider on a developer's machine or in CI:
            a key made by "dev key" is a private key on disk, and "dev token" mints any claims
            anyone asks for. Never point a production gatehouse.jwks at a dev key.
            """,
        subcommands: [DevKey.self, DevToken.self])
}

struct DevKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "FOR TESTING ONLY: write a private signing key (PEM, 0600) and its public JWKS.",
        discussion: """
            Writes DIR/signing-key.pem (the private key, mode 0600) and DIR/jwks.json (the public key,
            with "kid" the RFC 7638 thumbprint, "alg" and "use": "sig"), for gatehouse.jwks.
            """)

    @Option(help: "The folder to write signing-key.pem and jwks.json into (made if missing).") var out: String
    @Option(help: "rsa (RS256, 2048 bits) or ec (ES256, P-256).") var type: String = "rsa"
    @Flag(help: "Replace existing files.") var force = false
    @Flag(help: "Machine-readable output: {\"private_key\", \"jwks\", \"kid\", \"algorithm\"}.") var json = false

    func run() throws {
        guard let kind = DevKeyType(rawValue: type) else { throw UsageError("--type: \"\(type)\" is not rsa or ec") }
        let keyPath = (out as NSString).appendingPathComponent("signing-key.pem")
        let jwksPath = (out as NSString).appendingPathComponent("jwks.json")
        for path in [keyPath, jwksPath] where !force && FileManager.default.fileExists(atPath: path) {
            throw UsageError("\(path) exists (--force replaces it)")
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let key = try DevSigningKey.generate(kind)
        defer { EVP_PKEY_free(key.pkey) }
        try write(Data(try key.privatePEM().utf8), to: keyPath, mode: 0o600)
        let jwk = try key.publicJWK()
        let document = try JSONSerialization.data(
            withJSONObject: ["keys": [jwk]], options: [.prettyPrinted, .sortedKeys])
        try write(document + Data("\n".utf8), to: jwksPath, mode: 0o644)
        if json {
            let members: [(key: String, value: JSON)] = [
                ("private_key", .string(keyPath)), ("jwks", .string(jwksPath)), ("kid", .string(jwk["kid"] ?? "")),
                ("algorithm", .string(kind.algorithm)),
            ]
            print(JSON.object(JSONObject(members: members)).serialized)
            return
        }
        print("\(keyPath): private key (\(kind.algorithm)), for gatehouse dev token --key")
        print("\(jwksPath): its public JWKS (kid \(jwk["kid"] ?? "")), for gatehouse.jwks")
    }

    private func write(_ data: Data, to path: String, mode: Int) throws {
        try? FileManager.default.removeItem(atPath: path)
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: mode])
        else { throw UsageError("\(path): cannot write") }
    }
}

struct DevToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "FOR TESTING ONLY: print a JWT signed with a key from gatehouse dev key.",
        discussion: """
            The token carries "sub", "iat", "nbf", "exp" and, when given, "iss" and "aud", then the
            members of --claims (which may replace any of them). RS256 for an RSA key, ES256 for a
            P-256 key; the header's "kid" is the key's RFC 7638 thumbprint, as in its jwks.json.
            """)

    @Option(help: "The private key (PEM) from gatehouse dev key.") var key: String
    @Option(help: "The \"sub\" claim.") var sub: String?
    @Option(help: "More claims, a JSON object: '{\"roles\":[\"viewer\"]}'.") var claims: String = "{}"
    @Option(help: "The \"iss\" claim.") var issuer: String?
    @Option(help: "The \"aud\" claim.") var audience: String?
    @Option(help: "Seconds until \"exp\".") var lifetime: Int = 3600
    @Option(parsing: .unconditional, help: "The header's \"kid\" (default: the key's thumbprint; \"\" leaves it out).")
    var kid: String?  // a thumbprint may begin with "-" (base64url)
    @Flag(help: "Machine-readable output: {\"token\", \"header\", \"claims\"}.") var json = false

    func run() throws {
        guard let pem = FileManager.default.contents(atPath: key) else { throw UsageError("\(key): cannot read") }
        let signing = try DevSigningKey.load(pem: pem, path: key)
        defer { EVP_PKEY_free(signing.pkey) }
        guard let data = claims.data(using: .utf8),
            let extra = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw UsageError("--claims: not a JSON object") }
        let now = Int(Date().timeIntervalSince1970)
        var payload: [String: Any] = ["iat": now, "nbf": now, "exp": now + lifetime]
        if let sub { payload["sub"] = sub }
        if let issuer { payload["iss"] = issuer }
        if let audience { payload["aud"] = audience }
        payload.merge(extra) { _, given in given }
        let (token, header) = try signing.mint(payload, kid: kid)
        guard json else {
            print(token)
            return
        }
        let parts = try [header, payload].map { object in
            guard case .success(let parsed) = JSON.parse(Array(try JSONSerialization.data(withJSONObject: object)))
            else { throw UsageError("--claims: cannot be serialized") }
            return parsed
        }
        print(
            JSON.object(JSONObject(members: [("token", .string(token)), ("header", parts[0]), ("claims", parts[1])]))
                .serialized)
    }
}

enum DevKeyType: String {
    case rsa, ec
    var algorithm: String { self == .rsa ? "RS256" : "ES256" }
}

/// An OpenSSL private key with what `dev key` and `dev token` need of it.
struct DevSigningKey {
    let pkey: OpaquePointer
    let kind: DevKeyType

    static func generate(_ kind: DevKeyType) throws -> DevSigningKey {
        guard let context = EVP_PKEY_CTX_new_id(kind == .rsa ? EVP_PKEY_RSA : EVP_PKEY_EC, nil) else {
            throw UsageError("OpenSSL: cannot make a key context")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var pkey: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1,
            kind == .rsa
                ? EVP_PKEY_CTX_set_rsa_keygen_bits(context, 2048) == 1
                : EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context, NID_X9_62_prime256v1) == 1,
            EVP_PKEY_keygen(context, &pkey) == 1, let pkey
        else { throw UsageError("OpenSSL: key generation failed") }
        return DevSigningKey(pkey: pkey, kind: kind)
    }

    static func load(pem: Data, path: String) throws -> DevSigningKey {
        let loaded: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let loaded else { throw UsageError("\(path): not a PEM private key") }
        switch EVP_PKEY_get_base_id(loaded) {
        case EVP_PKEY_RSA: return DevSigningKey(pkey: loaded, kind: .rsa)
        case EVP_PKEY_EC where EVP_PKEY_get_bits(loaded) == 256: return DevSigningKey(pkey: loaded, kind: .ec)
        default:
            EVP_PKEY_free(loaded)
            throw UsageError("\(path): neither an RSA nor a P-256 key")
        }
    }

    /// A JWT of `payload` signed with this key (RS256 or ES256): the header has "alg", "typ" (`type`)
    /// and "kid" (default: the key's thumbprint; "" leaves it out). Returns the token and its header.
    func mint(_ payload: [String: Any], kid: String?, type: String = "JWT") throws -> (String, [String: Any]) {
        let chosenKid = try kid ?? (publicJWK()["kid"] ?? "")
        var header: [String: Any] = ["alg": kind.algorithm, "typ": type]
        if !chosenKid.isEmpty { header["kid"] = chosenKid }
        let signingInput =
            base64URL(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) + "."
            + base64URL(try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]))
        return (signingInput + "." + base64URL(Data(try sign(Array(signingInput.utf8)))), header)
    }

    func privatePEM() throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw UsageError("OpenSSL: cannot make a buffer") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil) == 1 else {
            throw UsageError("OpenSSL: cannot write the key")
        }
        var pointer: UnsafeMutablePointer<CChar>?
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
        guard let pointer, length > 0 else { throw UsageError("OpenSSL: cannot read the key back") }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// The public JWK with "kid" its RFC 7638 thumbprint (SHA-256 of the required members, sorted).
    func publicJWK() throws -> [String: String] {
        let required: [(String, String)]
        if kind == .rsa {
            required = [("e", try parameter("e", width: 0)), ("kty", "RSA"), ("n", try parameter("n", width: 0))]
        } else {
            required = [
                ("crv", "P-256"), ("kty", "EC"), ("x", try parameter("qx", width: 32)),
                ("y", try parameter("qy", width: 32)),
            ]
        }
        let canonical = "{" + required.map { "\"\($0.0)\":\"\($0.1)\"" }.joined(separator: ",") + "}"
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        _ = SHA256(canonical, canonical.utf8.count, &digest)
        var jwk = Dictionary(uniqueKeysWithValues: required)
        jwk["kid"] = base64URL(Data(digest))
        jwk["alg"] = kind.algorithm
        jwk["use"] = "sig"
        return jwk
    }

    /// A big-number parameter of the key, base64url, left-padded to `width` bytes when not 0.
    private func parameter(_ name: String, width: Int) throws -> String {
        var number: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pkey, name, &number) == 1, let number else {
            throw UsageError("OpenSSL: the key has no \"\(name)\"")
        }
        defer { BN_free(number) }
        let size = width > 0 ? width : Int((BN_num_bits(number) + 7) / 8)
        var bytes = [UInt8](repeating: 0, count: size)
        guard BN_bn2binpad(number, &bytes, Int32(size)) == Int32(size) else {
            throw UsageError("OpenSSL: \"\(name)\" does not fit")
        }
        return base64URL(Data(bytes))
    }

    /// RS256 (RSASSA-PKCS1-v1_5) or ES256 with the signature as R || S (RFC 7518 §3.4).
    func sign(_ input: [UInt8]) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw UsageError("OpenSSL: cannot make a digest context") }
        defer { EVP_MD_CTX_free(context) }
        var length = 0
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, pkey) == 1,
            EVP_DigestSign(context, nil, &length, input, input.count) == 1
        else { throw UsageError("OpenSSL: cannot sign") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, input, input.count) == 1 else {
            throw UsageError("OpenSSL: cannot sign")
        }
        signature.removeSubrange(length...)
        if kind == .rsa { return signature }
        var cursor: UnsafePointer<UInt8>? = nil
        return try signature.withUnsafeBufferPointer { der in
            cursor = der.baseAddress
            guard let parsed = d2i_ECDSA_SIG(nil, &cursor, der.count) else {
                throw UsageError("OpenSSL: not an ECDSA signature")
            }
            defer { ECDSA_SIG_free(parsed) }
            var raw = [UInt8](repeating: 0, count: 64)
            guard BN_bn2binpad(ECDSA_SIG_get0_r(parsed), &raw, 32) == 32,
                raw.withUnsafeMutableBufferPointer({
                    BN_bn2binpad(ECDSA_SIG_get0_s(parsed), $0.baseAddress! + 32, 32)
                }) == 32
            else { throw UsageError("OpenSSL: ECDSA signature does not fit") }
            return raw
        }
    }
}

private func base64URL(_ data: Data) -> String {
    data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}
