internal import COpenSSL
import Synchronization

/// One public key (or HMAC secret) that may verify tokens, checked when it was made and bound
/// to the algorithms its type allows. Owns its OpenSSL objects.
public final class VerificationKey: @unchecked Sendable {
    public enum Kind: Sendable, Equatable {
        case rsa(bits: Int)
        case ec(ECCurve)
        case ed25519
        case hmac
    }

    public let kind: Kind
    /// The JWK `kid`, if any.
    public let id: String?
    /// The JWK `alg`, if any: then this is the only algorithm the key verifies.
    public let algorithm: JWSAlgorithm?
    /// How messages name the key: `key "kid"` or `key #2`.
    public let label: String

    // Immutable after init; OpenSSL allows concurrent verification with one EVP_PKEY.
    private let pkey: OpaquePointer?  // EVP_PKEY *
    private let order: OpaquePointer?  // BIGNUM *, the group order of an EC key
    private let secret: [UInt8]  // HMAC only
    /// EVP_PKEY_CTX set up per algorithm for EVP_PKEY_verify (padding, digest, salt length) and
    /// reused: OpenSSL 3 spends more on setting up a verification than on a small message's hash.
    /// A context verifies on one thread at a time: each verification takes one out of this list
    /// (or prepares one when none is free) and puts it back after, so threads verifying with the
    /// same key at once each use their own, and the list holds at most one per such thread.
    private let prepared = Mutex<[JWSAlgorithm: [PreparedContext]]>([:])

    /// An EVP_PKEY_CTX that one verification at a time uses.
    private struct PreparedContext: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private init(
        kind: Kind, id: String?, algorithm: JWSAlgorithm?, label: String,
        pkey: OpaquePointer?, order: OpaquePointer? = nil, secret: [UInt8] = []
    ) {
        self.kind = kind
        self.id = id
        self.algorithm = algorithm
        self.label = label
        self.pkey = pkey
        self.order = order
        self.secret = secret
    }

    deinit {
        prepared.withLock { contexts in
            for context in contexts.values.joined() { EVP_PKEY_CTX_free(context.pointer) }
        }
        EVP_PKEY_free(pkey)
        BN_free(order)
        if !secret.isEmpty {
            secret.withUnsafeBytes { OPENSSL_cleanse(UnsafeMutableRawPointer(mutating: $0.baseAddress), $0.count) }
        }
    }

    /// Whether the key's type, curve and own `alg` allow `algorithm` (RFC 8725 §3.1).
    public func accepts(_ algorithm: JWSAlgorithm) -> Bool {
        if let own = self.algorithm, own != algorithm { return false }
        switch (kind, algorithm.family) {
        case (.rsa, .rsa), (.rsa, .rsaPSS), (.ed25519, .edDSA): return true
        case (.ec(let curve), .ecdsa): return algorithm.curve == curve
        case (.hmac, .hmac): return secret.count >= algorithm.hashLength
        default: return false
        }
    }

    /// Verifies a JWS signature over `signingInput`. The caller has checked `accepts(algorithm)`.
    /// Thread-safe: several threads may verify with one key at once.
    func verify(signature: [UInt8], over signingInput: UnsafeRawBufferPointer, algorithm: JWSAlgorithm) -> Bool {
        defer { ERR_clear_error() }
        switch algorithm.family {
        case .hmac:
            return verifyHMAC(signature: signature, over: signingInput, algorithm: algorithm)
        case .ecdsa:
            guard let der = derSignature(fromRaw: signature) else { return false }
            return verifyDigest(signature: der, over: signingInput, algorithm: algorithm)
        case .rsa, .rsaPSS:
            guard signature.count == Int(EVP_PKEY_get_size(pkey)) else { return false }
            return verifyDigest(signature: signature, over: signingInput, algorithm: algorithm)
        case .edDSA:
            guard signature.count == 64 else { return false }
            return digestVerify(signature: signature, over: signingInput, algorithm: algorithm)
        }
    }

    /// RSA and ECDSA: hash the input, then verify the signature over the digest.
    private func verifyDigest(
        signature: [UInt8], over input: UnsafeRawBufferPointer,
        algorithm: JWSAlgorithm
    ) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { digest in
            let length = algorithm.hashLength
            guard EVP_Digest(input.baseAddress, input.count, digest.baseAddress, nil, Self.sha2(length), nil) == 1
            else { return false }
            // Never waits for the list's lock: in a process forked while a verify thread held it
            // (`server.graceful-restart-bg`) nobody would release it. A context that cannot be
            // taken is prepared, one that cannot be put back is freed.
            let taken = prepared.withLockIfAvailable { $0[algorithm]?.popLast() } ?? nil
            guard let context = taken ?? prepare(for: algorithm) else { return false }
            defer {
                let kept: Void? = prepared.withLockIfAvailable { $0[algorithm, default: []].append(context) }
                if kept == nil { EVP_PKEY_CTX_free(context.pointer) }
            }
            return EVP_PKEY_verify(context.pointer, signature, signature.count, digest.baseAddress, length) == 1
        }
    }

    /// SHA-256, -384 and -512 fetched from OpenSSL's provider once (the one-shot SHA256() fetches
    /// its algorithm again on every call). Immutable, so any thread may use them.
    private struct FetchedDigest: @unchecked Sendable {
        let pointer: OpaquePointer?
        init(_ name: String) { pointer = EVP_MD_fetch(nil, name, nil) }
    }
    private static let sha256 = FetchedDigest("SHA256")
    private static let sha384 = FetchedDigest("SHA384")
    private static let sha512 = FetchedDigest("SHA512")

    /// The SHA-2 digest of `length` bytes (32, 48 or 64).
    private static func sha2(_ length: Int) -> OpaquePointer? {
        switch length {
        case 32: sha256.pointer
        case 48: sha384.pointer
        default: sha512.pointer
        }
    }

    private func prepare(for algorithm: JWSAlgorithm) -> PreparedContext? {
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else { return nil }
        var ready =
            EVP_PKEY_verify_init(context) == 1
            && EVP_PKEY_CTX_set_signature_md(context, algorithm.digest) == 1
        switch algorithm.family {
        case .rsa:
            ready = ready && EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1
        case .rsaPSS:
            // RFC 7518 §3.5: MGF1 with the same hash, and a salt as long as the hash.
            // OpenSSL's default would accept any salt length.
            ready =
                ready && EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PSS_PADDING) == 1
                && EVP_PKEY_CTX_set_rsa_mgf1_md(context, algorithm.digest) == 1
                && EVP_PKEY_CTX_set_rsa_pss_saltlen(context, RSA_PSS_SALTLEN_DIGEST) == 1
        default:
            break
        }
        guard ready else {
            EVP_PKEY_CTX_free(context)
            return nil
        }
        return PreparedContext(pointer: context)
    }

    /// Ed25519 signs the message itself (no pre-hash).
    private func digestVerify(
        signature: [UInt8], over input: UnsafeRawBufferPointer,
        algorithm: JWSAlgorithm
    ) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, pkey) == 1 else { return false }
        return signature.withUnsafeBufferPointer { sig in
            EVP_DigestVerify(
                context, sig.baseAddress, sig.count,
                input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count) == 1
        }
    }

    private func verifyHMAC(signature: [UInt8], over input: UnsafeRawBufferPointer, algorithm: JWSAlgorithm) -> Bool {
        guard signature.count == algorithm.hashLength, secret.count >= algorithm.hashLength else { return false }
        var mac = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var macLength: UInt32 = 0
        let done = secret.withUnsafeBytes { key in
            mac.withUnsafeMutableBufferPointer { out in
                HMAC(
                    algorithm.digest, key.baseAddress, Int32(key.count),
                    input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count,
                    out.baseAddress, &macLength) != nil
            }
        }
        guard done, Int(macLength) == signature.count else { return false }
        return CRYPTO_memcmp(mac, signature, signature.count) == 0
    }

    /// Turns a JWS ECDSA signature (raw r‖s, RFC 7518 §3.4) into the DER form OpenSSL takes,
    /// refusing any other length and any r or s outside 1…n-1 (CVE-2022-21449).
    private func derSignature(fromRaw raw: [UInt8]) -> [UInt8]? {
        guard case .ec(let curve) = kind, raw.count == 2 * curve.coordinateLength, let order else { return nil }
        let half = curve.coordinateLength
        let (r, s) = raw.withUnsafeBufferPointer {
            (BN_bin2bn($0.baseAddress, Int32(half), nil), BN_bin2bn($0.baseAddress! + half, Int32(half), nil))
        }
        guard let r, let s, BN_is_zero(r) == 0, BN_is_zero(s) == 0,
            BN_cmp(r, order) < 0, BN_cmp(s, order) < 0, let signature = ECDSA_SIG_new()
        else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        defer { ECDSA_SIG_free(signature) }
        guard ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        let length = i2d_ECDSA_SIG(signature, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_ECDSA_SIG(signature, &cursor)
        }
        return written == length ? der : nil
    }
}

// MARK: - Making keys

/// Why a key was refused when it loaded.
public struct KeyError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension VerificationKey {
    /// The smallest RSA modulus accepted (RFC 7518 §3.3 and §3.5).
    static let minimumRSABits = 2048
    /// OpenSSL refuses larger moduli anyway; this bounds the cost of one verification.
    static let maximumRSABits = 16384

    static func rsa(
        modulus: [UInt8], exponent: [UInt8], id: String?, algorithm: JWSAlgorithm?,
        label: String
    ) throws(KeyError) -> VerificationKey {
        guard let builder = OSSL_PARAM_BLD_new() else { throw KeyError("\(label): out of memory") }
        defer { OSSL_PARAM_BLD_free(builder) }
        let n = BN_bin2bn(modulus, Int32(modulus.count), nil)
        let e = BN_bin2bn(exponent, Int32(exponent.count), nil)
        defer {
            BN_free(n)
            BN_free(e)
        }
        guard OSSL_PARAM_BLD_push_BN(builder, COPENSSL_PARAM_RSA_N, n) == 1,
            OSSL_PARAM_BLD_push_BN(builder, COPENSSL_PARAM_RSA_E, e) == 1
        else {
            throw KeyError("\(label): could not read the RSA modulus and exponent")
        }
        let pkey = try fromParameters(builder, type: "RSA", label: label)
        return try checkedRSA(pkey, id: id, algorithm: algorithm, label: label)
    }

    static func ec(
        curve: ECCurve, x: [UInt8], y: [UInt8], id: String?, algorithm: JWSAlgorithm?,
        label: String
    ) throws(KeyError) -> VerificationKey {
        guard x.count == curve.coordinateLength, y.count == curve.coordinateLength else {
            throw KeyError("\(label): x and y must be \(curve.coordinateLength) bytes each for \(curve.rawValue)")
        }
        guard let builder = OSSL_PARAM_BLD_new() else { throw KeyError("\(label): out of memory") }
        defer { OSSL_PARAM_BLD_free(builder) }
        // The builder keeps pointers until OSSL_PARAM_BLD_to_param: the group name is a static
        // string, and the point is built in memory that outlives that call.
        let point = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 + 2 * curve.coordinateLength, alignment: 1)
        defer { point.deallocate() }
        point[0] = 0x04  // SEC 1 uncompressed point
        point[1...].copyBytes(from: x + y)
        guard OSSL_PARAM_BLD_push_utf8_string(builder, COPENSSL_PARAM_GROUP_NAME, curve.groupName.utf8Start, 0) == 1,
            OSSL_PARAM_BLD_push_octet_string(builder, COPENSSL_PARAM_PUB_KEY, point.baseAddress, point.count) == 1
        else {
            throw KeyError("\(label): could not read the EC point")
        }
        let pkey = try fromParameters(builder, type: "EC", label: label)
        return try checkedEC(pkey, curve: curve, id: id, algorithm: algorithm, label: label)
    }

    static func ed25519(
        publicKey: [UInt8], id: String?, algorithm: JWSAlgorithm?,
        label: String
    ) throws(KeyError) -> VerificationKey {
        try checkEd25519Point(publicKey, label: label)
        guard let pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, publicKey, publicKey.count) else {
            ERR_clear_error()
            throw KeyError("\(label): not a valid Ed25519 public key")
        }
        return VerificationKey(kind: .ed25519, id: id, algorithm: algorithm, label: label, pkey: pkey)
    }

    static func hmac(
        secret: [UInt8], id: String?, algorithm: JWSAlgorithm?,
        label: String
    ) throws(KeyError) -> VerificationKey {
        let needed = algorithm?.hashLength ?? JWSAlgorithm.hs256.hashLength
        guard secret.count >= needed else {
            throw KeyError("\(label): an HMAC secret must be at least \(needed) bytes, this one has \(secret.count)")
        }
        return VerificationKey(kind: .hmac, id: id, algorithm: algorithm, label: label, pkey: nil, secret: secret)
    }

    /// Reads one public key from PEM (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo).
    static func pem(_ text: [UInt8], label: String) throws(KeyError) -> VerificationKey {
        let pkey: OpaquePointer? = text.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let pkey else {
            ERR_clear_error()
            throw KeyError("\(label): no PEM public key (expected -----BEGIN PUBLIC KEY-----)")
        }
        switch EVP_PKEY_get_base_id(pkey) {
        case EVP_PKEY_RSA:
            return try checkedRSA(pkey, id: nil, algorithm: nil, label: label)
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            guard EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, &name, name.count, &length) == 1,
                let curve = ECCurve.allCases.first(where: {
                    $0.groupName.description
                        == String(
                            decoding: name.prefix(length).map { UInt8(bitPattern: $0) },
                            as: UTF8.self)
                })
            else {
                EVP_PKEY_free(pkey)
                throw KeyError("\(label): EC keys must be on P-256, P-384 or P-521")
            }
            return try checkedEC(pkey, curve: curve, id: nil, algorithm: nil, label: label)
        case EVP_PKEY_ED25519:
            var raw = [UInt8](repeating: 0, count: 32)
            var length = raw.count
            let read = EVP_PKEY_get_raw_public_key(pkey, &raw, &length)
            EVP_PKEY_free(pkey)
            guard read == 1, length == 32 else { throw KeyError("\(label): not a valid Ed25519 public key") }
            return try ed25519(publicKey: raw, id: nil, algorithm: nil, label: label)
        default:
            EVP_PKEY_free(pkey)
            throw KeyError("\(label): unsupported key type (expected RSA, EC P-256/384/521 or Ed25519)")
        }
    }

    private static func fromParameters(
        _ builder: OpaquePointer, type: String,
        label: String
    ) throws(KeyError) -> OpaquePointer {
        guard let params = OSSL_PARAM_BLD_to_param(builder) else { throw KeyError("\(label): out of memory") }
        defer { OSSL_PARAM_free(params) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else {
            throw KeyError("\(label): OpenSSL has no \(type) support")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var pkey: OpaquePointer?
        guard EVP_PKEY_fromdata_init(context) == 1,
            EVP_PKEY_fromdata(context, &pkey, COPENSSL_EVP_PKEY_PUBLIC_KEY, params) == 1, let pkey
        else {
            ERR_clear_error()
            throw KeyError("\(label): not a valid \(type) public key")
        }
        return pkey
    }

    /// RFC 7518 §3.3 and RFC 8725 §3.5: at least 2048 bits, and OpenSSL's public-key check,
    /// which refuses e = 1 (with which any signature "verifies") and even exponents.
    private static func checkedRSA(
        _ pkey: OpaquePointer, id: String?, algorithm: JWSAlgorithm?,
        label: String
    ) throws(KeyError) -> VerificationKey {
        let key = VerificationKey(
            kind: .rsa(bits: Int(EVP_PKEY_get_bits(pkey))), id: id, algorithm: algorithm,
            label: label, pkey: pkey)
        let bits = Int(EVP_PKEY_get_bits(pkey))
        guard bits >= minimumRSABits else {
            throw KeyError("\(label): RSA keys must have at least \(minimumRSABits) bits, this one has \(bits)")
        }
        guard bits <= maximumRSABits else {
            throw KeyError("\(label): RSA keys may have at most \(maximumRSABits) bits, this one has \(bits)")
        }
        var exponent: OpaquePointer?
        guard EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &exponent) == 1, let exponent else {
            ERR_clear_error()
            throw KeyError("\(label): RSA key without a public exponent")
        }
        defer { BN_free(exponent) }
        guard BN_is_odd(exponent) == 1, BN_num_bits(exponent) >= 2, BN_num_bits(exponent) <= 256 else {
            throw KeyError("\(label): RSA public exponent must be odd and between 3 and 2^256")
        }
        try publicCheck(pkey, label: label)
        return key
    }

    private static func checkedEC(
        _ pkey: OpaquePointer, curve: ECCurve, id: String?, algorithm: JWSAlgorithm?,
        label: String
    ) throws(KeyError) -> VerificationKey {
        guard let group = EC_GROUP_new_by_curve_name(curve.nid) else {
            EVP_PKEY_free(pkey)
            throw KeyError("\(label): OpenSSL lacks curve \(curve.rawValue)")
        }
        defer { EC_GROUP_free(group) }
        let order = BN_dup(EC_GROUP_get0_order(group))
        let key = VerificationKey(
            kind: .ec(curve), id: id, algorithm: algorithm, label: label, pkey: pkey,
            order: order)
        guard order != nil else { throw KeyError("\(label): out of memory") }
        try publicCheck(pkey, label: label)
        return key
    }

    private static func publicCheck(_ pkey: OpaquePointer, label: String) throws(KeyError) {
        guard let context = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else {
            throw KeyError("\(label): out of memory")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_public_check(context) == 1 else {
            ERR_clear_error()
            throw KeyError("\(label): fails OpenSSL's public key check (EVP_PKEY_public_check)")
        }
    }

    /// Ed25519 points of small order (the identity among them) verify forged signatures for
    /// some messages; they and non-canonical encodings (y ≥ p) are refused. The list is
    /// libsodium's, compared without the sign bit.
    private static let smallOrderPoints: [[UInt8]] = [
        [UInt8](repeating: 0, count: 32),  // order 4
        [0x01] + [UInt8](repeating: 0, count: 31),  // identity, order 1
        [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
            0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
        ],  // order 8
        [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
            0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
        ],  // order 8
        [0xec] + [UInt8](repeating: 0xff, count: 30) + [0x7f],  // p-1, order 2
    ]

    static func checkEd25519Point(_ point: [UInt8], label: String) throws(KeyError) {
        guard point.count == 32 else { throw KeyError("\(label): an Ed25519 public key is 32 bytes") }
        var masked = point
        masked[31] &= 0x7f
        if smallOrderPoints.contains(masked) {
            throw KeyError("\(label): Ed25519 public key is a point of small order")
        }
        // y ≥ p = 2^255 - 19: bytes 1…30 all 0xff, top byte 0x7f, low byte ≥ 0xed.
        if masked[31] == 0x7f, masked[1..<31].allSatisfy({ $0 == 0xff }), masked[0] >= 0xed {
            throw KeyError("\(label): Ed25519 public key is not canonically encoded")
        }
    }
}
