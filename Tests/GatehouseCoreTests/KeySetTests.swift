import Foundation
import Testing

@testable import GatehouseCore

/// RFC 7517 §5: the members of a JWKS the module cannot verify with are skipped, named in a
/// warning; everything else is still checked and refuses the whole set.
@Suite struct KeySetTests {
    /// The fixtures' signature keys followed by `extra`, as a JWKS document.
    func jwks(adding extra: [[String: Any]]) throws -> [UInt8] {
        let trusted = try JSONSerialization.jsonObject(with: Fixtures.data("jwks.json")) as! [String: Any]
        let keys = (trusted["keys"] as! [[String: Any]]) + extra
        return Array(try JSONSerialization.data(withJSONObject: ["keys": keys]))
    }

    /// rsa-1's public members, for keys that differ from it only in what they are for.
    func rsaMembers() throws -> [String: Any] {
        let trusted = try JSONSerialization.jsonObject(with: Fixtures.data("jwks.json")) as! [String: Any]
        let rsa = (trusted["keys"] as! [[String: Any]]).first { $0["kid"] as? String == "rsa-1" }!
        return ["kty": "RSA", "n": rsa["n"]!, "e": rsa["e"]!]
    }

    @Test func keysForOtherUsesAreSkippedAndNamed() throws {
        let rsa = try rsaMembers()
        let bytes = try jwks(adding: [
            rsa.merging(["kid": "enc-1", "use": "enc"]) { $1 },  // Keycloak publishes one of these
            rsa.merging(["kid": "oaep-1", "alg": "RSA-OAEP"]) { $1 },
            rsa.merging(["kid": "wrap-1", "key_ops": ["wrapKey"]]) { $1 },
            ["kty": "XYZ", "kid": "future-1"],
            ["kty": "OKP", "crv": "X25519", "kid": "ecdh-1", "x": "AAAA"],
            ["kty": "EC", "crv": "secp256k1", "kid": "k1-1", "x": "AAAA", "y": "AAAA"],
        ])
        let keys = try KeySet.parse(bytes, source: "jwks.json")
        #expect(keys.keys.count == Fixtures.keys.keys.count)
        #expect(
            keys.skipped == [
                "jwks.json: key #8 (kid \"enc-1\"): skipped, \"use\" is \"enc\"; only signature keys (\"sig\") "
                    + "verify tokens",
                "jwks.json: key #9 (kid \"oaep-1\"): skipped, \"alg\" \"RSA-OAEP\" is not a signature algorithm "
                    + "the module verifies (" + JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ") + ")",
                "jwks.json: key #10 (kid \"wrap-1\"): skipped, \"key_ops\" does not include \"verify\"",
                "jwks.json: key #11 (kid \"future-1\"): skipped, \"kty\" \"XYZ\" is not a key type the module "
                    + "verifies with (RSA, EC, OKP or oct)",
                "jwks.json: key #12 (kid \"ecdh-1\"): skipped, \"crv\" \"X25519\" is not a signature curve the "
                    + "module verifies with (Ed25519)",
                "jwks.json: key #13 (kid \"k1-1\"): skipped, \"crv\" \"secp256k1\" is not a signature curve the "
                    + "module verifies with (P-256, P-384 or P-521)",
            ])
        #expect(keys.candidates(kid: "enc-1", algorithm: .rs256).keys.isEmpty)
        #expect(try KeySet.parse(jwks(adding: []), source: "jwks.json").skipped.isEmpty)
    }

    @Test func aSkippedKeyIsAWarningOfTheDirective() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-keyset-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("jwks.json")
        try Data(jwks(adding: [try rsaMembers().merging(["kid": "enc-1", "use": "enc"]) { $1 }])).write(to: file)
        let setting = try Setting.compile(.jwks, .string(file.path))
        #expect(setting.warnings.count == 1)
        let named = "gatehouse.jwks: \(file.path): key #8 (kid \"enc-1\"): skipped"
        #expect(setting.warnings.first?.hasPrefix(named) == true)
    }

    @Test(arguments: [
        (
            "{\"kid\": \"weak\", \"n\": \"w-sW4UWRICwBJEQB6WpsGmiiCqqGGJrsUWexl0O6rwj3Pa6WYGpjUtZv0mp8erS27Zk43t3NImfN"
                + "x1p2CsDqoEdPECIzutC2PLfkS2rcAHfdoRGE-LUW_hCESGfUF9J5vs_-0FOf6pdDEBpK32qx-KCBXp43IW-w1j9tUJ1AzYM\"}",
            "key #8 (kid \"weak\"): RSA keys must have at least 2048 bits, this one has 1024"
        ),
        (
            "{\"kid\": \"leak\", \"use\": \"enc\", \"d\": \"c2VjcmV0\"}",
            "key #8 (kid \"leak\"): holds private key material (\"d\")"
        ),
        ("{\"kid\": \"odd\", \"use\": 3}", "key #8 (kid \"odd\"): \"use\" must be a string"),
    ])
    func aKeyThatBreaksACheckStillRefusesTheSet(_ change: String, _ message: String) throws {
        let members = try JSONSerialization.jsonObject(with: Data(change.utf8)) as! [String: Any]
        let bytes = try jwks(adding: [try rsaMembers().merging(members) { $1 }])
        #expect {
            _ = try KeySet.parse(bytes, source: "jwks.json")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func aSetWithNoUsableKeyIsRefused() throws {
        let enc = try rsaMembers().merging(["kid": "enc-1", "use": "enc"]) { $1 }
        let set = Array(try JSONSerialization.data(withJSONObject: ["keys": [enc]]))
        #expect {
            _ = try KeySet.parse(set, source: "jwks.json")
        } throws: { error in
            "\(error)".hasPrefix("jwks.json: no key can verify signatures (jwks.json: key #1 (kid \"enc-1\"): skipped")
        }
        let one = Array(try JSONSerialization.data(withJSONObject: enc))
        #expect {
            _ = try KeySet.parse(one, source: "key.json")
        } throws: { error in
            "\(error)" == "key.json: key: \"use\" is \"enc\"; only signature keys (\"sig\") verify tokens, "
                + "and there is no other key"
        }
    }
}
