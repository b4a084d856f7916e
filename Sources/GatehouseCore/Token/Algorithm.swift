internal import COpenSSL

/// The JWS algorithms Gatehouse verifies (RFC 7518 §3, RFC 8037). `none` is not one of them:
/// an unsigned token can never be represented, let alone accepted.
public enum JWSAlgorithm: String, CaseIterable, Sendable, Hashable {
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"
    case ps256 = "PS256"
    case ps384 = "PS384"
    case ps512 = "PS512"
    case es256 = "ES256"
    case es384 = "ES384"
    case es512 = "ES512"
    case edDSA = "EdDSA"
    case hs256 = "HS256"
    case hs384 = "HS384"
    case hs512 = "HS512"

    /// The default of `gatehouse.algorithms`.
    public static let defaultAllowed: Set<JWSAlgorithm> = [.rs256, .ps256, .es256, .edDSA]

    /// Parses an algorithm name exactly as RFC 7518 spells it (case-sensitive).
    public init?(name: String) {
        guard let match = JWSAlgorithm.allCases.first(where: { $0.rawValue.sameBytes(name) }) else {
            return nil
        }
        self = match
    }

    enum Family { case rsa, rsaPSS, ecdsa, edDSA, hmac }

    var family: Family {
        switch self {
        case .rs256, .rs384, .rs512: .rsa
        case .ps256, .ps384, .ps512: .rsaPSS
        case .es256, .es384, .es512: .ecdsa
        case .edDSA: .edDSA
        case .hs256, .hs384, .hs512: .hmac
        }
    }

    /// Length in bytes of the hash the algorithm uses (SHA-512 inside Ed25519 is not counted).
    var hashLength: Int {
        switch self {
        case .rs256, .ps256, .es256, .hs256: 32
        case .rs384, .ps384, .es384, .hs384: 48
        case .rs512, .ps512, .es512, .hs512: 64
        case .edDSA: 0
        }
    }

    /// The OpenSSL digest, or nil for EdDSA (which hashes internally).
    var digest: OpaquePointer? {
        switch hashLength {
        case 32: EVP_sha256()
        case 48: EVP_sha384()
        case 64: EVP_sha512()
        default: nil
        }
    }

    /// The curve an ECDSA algorithm is defined on (RFC 7518 §3.4).
    var curve: ECCurve? {
        switch self {
        case .es256: .p256
        case .es384: .p384
        case .es512: .p521
        default: nil
        }
    }
}

/// The NIST curves of RFC 7518 §6.2.1.1.
public enum ECCurve: String, Sendable, CaseIterable {
    case p256 = "P-256"
    case p384 = "P-384"
    case p521 = "P-521"

    init?(jwkName: String) {
        guard let match = ECCurve.allCases.first(where: { $0.rawValue.sameBytes(jwkName) }) else {
            return nil
        }
        self = match
    }

    /// OpenSSL's group name for the curve.
    var groupName: StaticString {
        switch self {
        case .p256: "prime256v1"
        case .p384: "secp384r1"
        case .p521: "secp521r1"
        }
    }

    var nid: Int32 {
        switch self {
        case .p256: NID_X9_62_prime256v1
        case .p384: NID_secp384r1
        case .p521: NID_secp521r1
        }
    }

    /// Bytes in one coordinate, and in each of r and s of a JWS signature.
    var coordinateLength: Int {
        switch self {
        case .p256: 32
        case .p384: 48
        case .p521: 66
        }
    }

    var algorithm: JWSAlgorithm {
        switch self {
        case .p256: .es256
        case .p384: .es384
        case .p521: .es512
        }
    }
}
