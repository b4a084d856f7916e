/// The rules checked against gatehouse.claims-schema when the configuration loads (docs/policy.md,
/// "Claim types"): a comparison that can never hold for the declared types is an error, with the
/// rule, the column and a caret, as a syntax error is. Operands whose type is not known (a claim the
/// schema does not name) are not checked.
extension ClaimsSchema {
    /// What the schema and the language say of an operand's value.
    private indirect enum Kind: Equatable {
        case string, number, boolean, object
        /// An array; its elements' kind when known.
        case array(Kind?)

        /// Whether two values of these kinds can ever be equal (objects never are: docs/policy.md).
        func canEqual(_ other: Kind) -> Bool {
            switch (self, other) {
            case (.array(let a), .array(let b)):
                guard let a, let b else { return true }
                return a.canEqual(b)
            case (.object, _), (_, .object): return false
            default: return self == other
            }
        }

        var spoken: String {
            switch self {
            case .string: "a string"
            case .number: "a number"
            case .boolean: "a boolean"
            case .object: "an object"
            case .array(.string?): "an array of strings"
            case .array(.number?): "an array of numbers"
            case .array: "an array"
            }
        }
    }

    private func kind(of type: ClaimType) -> Kind {
        switch type {
        case .string: .string
        case .number, .integer: .number
        case .boolean: .boolean
        case .arrayOfStrings: .array(.string)
        case .arrayOfNumbers: .array(.number)
        case .array: .array(nil)
        case .object: .object
        }
    }

    /// The kind of an operand's value, when known: what the schema declares for a claim; strings for
    /// what the request gives; a list's elements when they share one kind.
    private func kind(of operand: Operand) -> Kind? {
        switch operand {
        case .claim(let path): return declaredType(of: path).map { kind(of: $0) }
        case .pathCapture, .method, .ip, .host, .header: return .string
        case .literal(.string): return .string
        case .literal(.integer), .literal(.real): return .number
        case .literal(.bool): return .boolean
        case .literal: return nil
        case .list(let elements):
            let kinds = elements.map { kind(of: $0) }
            guard let first = kinds.first, let known = first, kinds.allSatisfy({ $0 == known }) else {
                return .array(nil)
            }
            return .array(known)
        }
    }

    /// How a problem about a declared claim starts: the claim and its declared type; nil for an
    /// operand that is not a claim the schema names.
    private func about(_ operand: Operand) -> String? {
        guard case .claim(let path) = operand, let type = declaredType(of: path) else { return nil }
        return "claims.\(path) is \(type.spoken) (gatehouse.claims-schema)"
    }

    /// Why `left comparison right` can never hold for the declared types (or, for `!=`, always holds);
    /// nil when its outcome depends on the token, when a type it would need is not known, or when no
    /// claim the schema names takes part.
    func problem(_ left: Operand, _ comparison: Comparison, _ right: Operand) -> String? {
        let a = kind(of: left)
        let b = kind(of: right)
        let op = comparison.rawValue
        switch comparison {
        case .equal, .notEqual:
            guard let a, let b, !a.canEqual(b), let subject = about(left) ?? about(right) else { return nil }
            // (`!=` of two values that can never be equal always holds: as wrong, and it lets through)
            let verdict = comparison == .equal ? "never holds" : "always holds"
            if a == .object || b == .object {
                return "\(subject); \(op) \(verdict) for objects: compare one of their members"
            }
            let problem =
                "\(subject); \(op) compares it with \((about(left) != nil ? b : a).spoken), so it \(verdict)"
            for (list, item, listKind, itemKind) in [(left, right, a, b), (right, left, b, a)] {
                guard case .array(let element) = listKind, element.map({ $0.canEqual(itemKind) }) ?? true else {
                    continue
                }
                return problem
                    + (comparison == .equal
                        ? ": use `\(item) in \(list)` or `\(list) contains \(item)`" : ": use `not \(item) in \(list)`")
            }
            return problem
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            for (operand, known) in [(left, a), (right, b)] {
                if let subject = about(operand), let known, known != .string, known != .number {
                    return "\(subject); \(op) compares numbers or strings"
                }
            }
            guard let a, let b, a != b, let subject = about(left) ?? about(right) else { return nil }
            return "\(subject); \(op) compares it with \((about(left) != nil ? b : a).spoken), so it never holds"
        case .isIn:
            guard let b else { return nil }
            guard case .array(let element) = b else {
                guard let subject = about(right) else { return nil }
                return "\(subject); in looks in a list"
                    + (a.map { $0.canEqual(b) } == true ? ": use `\(left) == \(right)`" : "")
            }
            var sought = a
            if case .array(let each)? = a { sought = each }
            guard let sought, let element, !sought.canEqual(element), let subject = about(left) ?? about(right)
            else { return nil }
            return "\(subject); in looks for \(sought.spoken) in \(b.spoken)"
        case .contains:
            guard let a else { return nil }
            switch a {
            case .string:
                guard let b, b != .string, let subject = about(left) ?? about(right) else { return nil }
                return "\(subject); contains looks for \(b.spoken) in a string (it finds strings only)"
            case .array(let element):
                guard let element, let b, !element.canEqual(b), let subject = about(left) ?? about(right) else {
                    return nil
                }
                return "\(subject); contains looks for \(b.spoken) in \(a.spoken)"
            default:
                return about(left).map { "\($0); contains looks in lists and strings" }
            }
        case .startsWith, .endsWith:
            for (operand, known) in [(left, a), (right, b)] {
                if let subject = about(operand), known != .string { return "\(subject); \(op) compares strings" }
            }
            return nil
        }
    }

    /// Why `operand matches REGEX` can never hold: the operand is a declared claim that is not a string.
    func problem(matching operand: Operand) -> String? {
        guard let subject = about(operand), kind(of: operand) != .string else { return nil }
        return "\(subject); matches tests strings"
    }
}
