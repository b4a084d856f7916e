import Foundation
import Testing

@testable import GatehouseCore

@Suite("The published examples of RFC 7515 and RFC 8037")
struct RFCExampleTests {
    struct Example: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let algorithm: String
        let jwk: [String: String]
        let token: String
        let claims: Bool
        var testDescription: String { name }
    }

    static let examples: [Example] = {
        struct File: Decodable { let examples: [Example] }
        return try! JSONDecoder().decode(File.self, from: Fixtures.data("rfc-examples.json")).examples
    }()

    static func keys(_ example: Example) throws -> KeySet {
        let jwk = try JSONSerialization.data(withJSONObject: ["keys": [example.jwk]])
        return try KeySet.parse(Array(jwk), source: example.name)
    }

    @Test(arguments: examples)
    func theSignatureVerifies(_ example: Example) throws {
        let keys = try RFCExampleTests.keys(example)
        let algorithm = try #require(JWSAlgorithm(name: example.algorithm))
        var token = example.token
        let result = token.withUTF8 { TokenVerifier.verifySignature($0, keys: keys, algorithms: [algorithm]) }
        #expect(result.failure == nil)
    }

    @Test(arguments: examples)
    func theClaimsAreCheckedAfterTheSignature(_ example: Example) throws {
        let keys = try RFCExampleTests.keys(example)
        let requirements = TokenRequirements(
            issuers: example.claims ? ["joe"] : nil, audiences: nil,
            algorithms: Set(JWSAlgorithm.allCases))
        let then = TokenVerifier.verify(example.token, keys: keys, requirements: requirements, now: 1_300_819_000)
        let now = TokenVerifier.verify(example.token, keys: keys, requirements: requirements, now: 1_700_000_000)
        if example.claims {
            #expect(then.failure == nil)
            #expect(now.failure?.code == .expired)
        } else {
            #expect(then.failure?.code == .malformed)  // text, not a JSON object of claims
        }
    }

    @Test(arguments: examples)
    func aChangedSignatureDoesNotVerify(_ example: Example) throws {
        let keys = try RFCExampleTests.keys(example)
        let parts = example.token.split(separator: ".")
        let signature = Base64URL.decode(parts[2])!
        let token = parts[0] + "." + parts[1] + "." + Base64URL.encode(signature.reversed())
        let result = TokenVerifier.verify(
            String(token), keys: keys,
            requirements: TokenRequirements(
                issuers: nil, audiences: nil,
                algorithms: Set(JWSAlgorithm.allCases)),
            now: 1_300_819_000)
        #expect(result.failure?.code == .badSignature)
    }
}
