import Foundation
import GatehouseCore
import Testing

/// The fixtures of Fixtures/, made by make_fixtures.py with Python's `cryptography` and PyJWT.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func data(_ name: String) -> Data { FileManager.default.contents(atPath: path(name)) ?? Data() }

    struct TokenCase: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let token: String
        let expect: String
        var testDescription: String { name }
    }

    struct TokenFile: Decodable {
        struct Requirements: Decodable {
            let issuer: String
            let audience: [String]
            let leeway: Int64
        }
        let now: Int64
        let requirements: Requirements
        let cases: [TokenCase]
    }

    static let tokens: TokenFile = try! JSONDecoder().decode(TokenFile.self, from: data("tokens.json"))

    static let keys: KeySet = try! KeySet.load(path: path("jwks.json"))

    /// Every algorithm allowed, so each case reaches the check it is about.
    static let requirements = TokenRequirements(
        issuers: [tokens.requirements.issuer], audiences: tokens.requirements.audience,
        algorithms: Set(JWSAlgorithm.allCases), leeway: tokens.requirements.leeway)

    static func token(named name: String) -> String {
        tokens.cases.first { $0.name == name }!.token
    }

    struct BadKeySet: Decodable, Sendable, CustomTestStringConvertible {
        var name = ""
        let expect: String
        let content: String
        var testDescription: String { name }
        enum CodingKeys: String, CodingKey { case expect, content }
    }

    static let badKeySets: [BadKeySet] = {
        let folder = directory.appendingPathComponent("bad-keys")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().map { file in
            var set = try! JSONDecoder().decode(BadKeySet.self, from: data("bad-keys/\(file)"))
            set.name = file
            return set
        }
    }()
}
