/// gatehouse.claims-schema (docs/policy.md, "Claim types"): the type each named claim has. The rules
/// are checked against it when the configuration loads (`PolicyParser`, `ClaimsSchema+Rules`), and a
/// token whose named claim has another type is refused (403 `claim_type_mismatch`) instead of left to
/// a rule that would quietly evaluate false. Claims it does not name are not checked.
public struct ClaimsSchema: Sendable {
    /// The types a claim can be declared with, as the directive spells them.
    public enum ClaimType: String, Sendable, CaseIterable {
        case string
        /// An integer or a number with a fraction.
        case number
        /// A number written without a fraction or exponent (JSON's integers).
        case integer
        case boolean
        case arrayOfStrings = "array of strings"
        case arrayOfNumbers = "array of numbers"
        /// An array whose elements may be of any type.
        case array
        case object

        /// The type with its article, as messages say it: "an array of strings".
        var spoken: String {
            switch self {
            case .integer, .arrayOfStrings, .arrayOfNumbers, .array, .object: "an \(rawValue)"
            default: "a \(rawValue)"
            }
        }

        /// Whether `value` has this type.
        func admits(_ value: JSON) -> Bool {
            switch (self, value) {
            case (.string, .string), (.integer, .integer), (.number, .integer), (.number, .real),
                (.boolean, .bool), (.array, .array), (.object, .object):
                true
            case (.arrayOfStrings, .array(let elements)): elements.allSatisfy { ClaimType.string.admits($0) }
            case (.arrayOfNumbers, .array(let elements)): elements.allSatisfy { ClaimType.number.admits($0) }
            default: false
            }
        }
    }

    /// Each declared claim with its type, in the directive's order.
    public let claims: [(path: ClaimPath, type: ClaimType)]

    /// The declared type of the claim at `path`; nil when the schema does not name it.
    public func declaredType(of path: ClaimPath) -> ClaimType? {
        claims.first { $0.path.components == path.components }?.type
    }

    /// The first declared claim that is present with another type, as the refusal of the token; nil
    /// when each is absent or of its type. The message names the claim and both types, never the value.
    public func check(_ claims: JSONObject) -> TokenError? {
        let root = JSON.object(claims)
        for (path, type) in self.claims {
            guard let value = root.value(atPath: path), !type.admits(value) else { continue }
            return TokenError(
                .claimTypeMismatch,
                "claim \"\(path)\" is \(ClaimsSchema.describe(value, expected: type)), not \(type.spoken) "
                    + "(gatehouse.claims-schema)")
        }
        return nil
    }

    /// What a value is, in the words of the types; for an array expected to hold one type, the first
    /// element that does not.
    private static func describe(_ value: JSON, expected: ClaimType) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .real: return "a number with a fraction"
        case .string: return "a string"
        case .object: return "an object"
        case .array(let elements):
            let element: ClaimType = expected == .arrayOfNumbers ? .number : .string
            guard expected == .arrayOfStrings || expected == .arrayOfNumbers,
                let index = elements.firstIndex(where: { !element.admits($0) })
            else { return "an array" }
            return "an array whose element \(index) is \(describe(elements[index], expected: element))"
        }
    }

    /// Compiles the directive's value: `( "CLAIM" => "TYPE", … )`, each claim a name or a dot path.
    static func compile(_ input: DirectiveInput) throws(ConfigError) -> ClaimsSchema {
        let types = ClaimType.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        let expected =
            "a list of CLAIM => TYPE like ( \"teams\" => \"array of strings\", \"email\" => \"string\" ) "
            + "with TYPE one of \(types)"
        guard case .list(let entries) = input.value, !entries.isEmpty else { throw input.fail(expected) }
        var claims = [(path: ClaimPath, type: ClaimType)]()
        for entry in entries {
            guard let key = entry.key, case .string(let name) = entry.value else { throw input.fail(expected) }
            guard let path = ClaimPath(key) else {
                throw ConfigError(
                    "\(input.name): \"\(key)\" => \"\(name)\": expected a claim name or a dot path into nested "
                        + "claims (\"realm_access.roles\", \"'https://example.com/roles'\")")
            }
            guard let type = ClaimType(rawValue: name) else {
                let folded = Array(name.lowercased().utf8)
                let nearest = ClaimType.allCases.map { ($0, Directive.editDistance(Array($0.rawValue.utf8), folded)) }
                    .min { $0.1 < $1.1 }
                let guess = nearest.flatMap { $0.1 <= 3 ? "did you mean \"\($0.0.rawValue)\"? " : nil } ?? ""
                throw ConfigError(
                    "\(input.name): \"\(key)\" => \"\(name)\": unknown type (\(guess)expected one of \(types))")
            }
            if claims.contains(where: { $0.path.components == path.components }) {
                throw ConfigError("\(input.name): \"\(key)\" is declared twice (once per claim)")
            }
            claims.append((path, type))
        }
        return ClaimsSchema(claims: claims)
    }
}
