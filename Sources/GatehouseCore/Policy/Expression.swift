/// A compiled rule expression (docs/policy.md).
public indirect enum Expression: Sendable, CustomStringConvertible {
    /// No token needed.
    case anonymous
    /// Any valid token.
    case authenticated
    /// Always refused.
    case deny
    case role(String)
    case group(String)
    case scope(String)
    case user(String)
    case compare(Operand, Comparison, Operand)
    case matches(Operand, Regex)
    case inNetworks(Operand, [IPNetwork])
    case exists(Operand)
    case not(Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)

    /// Three-valued truth: `unknown` is what an identity predicate gives without an identity.
    public enum Truth: Sendable { case yes, no, unknown }

    /// What an expression is evaluated against.
    public struct Context {
        /// nil when the request has no valid token.
        public var identity: Identity?
        public var captures: [(name: String, value: String)]
        public var request: HTTPRequest
    }

    /// Evaluates with an identity, or without one (no valid token). Without one, everything
    /// that reads the token is unknown, and unknowns combine by Kleene's logic:
    ///
    ///     a        b        | a and b   a or b   | not a
    ///     yes      yes      | yes       yes      | no
    ///     yes      unknown  | unknown   yes      |
    ///     no       unknown  | no        unknown  | yes
    ///     unknown  unknown  | unknown   unknown  | unknown
    ///
    /// so a result that does not depend on who is asking is known without a token, and one
    /// that does is never decided for someone who did not prove who they are.
    /// `coverage` records the truth of each `and` / `or` operand evaluated (`gatehouse test --coverage`).
    public func evaluate(_ context: Context, trace: inout [String]?, coverage: Coverage? = nil) -> Truth {
        switch self {
        case .anonymous: return .yes
        case .deny: return .no
        case .authenticated, .role, .group, .scope, .user:
            guard let identity = context.identity else {
                trace?.append("\(self): unknown without a valid token")
                return .unknown
            }
            let result = holds(for: identity)
            trace?.append("\(self): \(result)")
            return result ? .yes : .no
        case .compare(let left, let comparison, let right):
            guard let a = left.resolve(context), let b = right.resolve(context) else {
                trace?.append("\(self): unknown without a valid token")
                return .unknown
            }
            let result = comparison.holds(a, b)
            trace?.append("\(self): \(Operand.show(a)) \(comparison.rawValue) \(Operand.show(b)) is \(result)")
            return result ? .yes : .no
        case .matches(let operand, let regex):
            guard let value = operand.resolve(context) else {
                trace?.append("\(self): unknown without a valid token")
                return .unknown
            }
            let result = value.map { if case .string(let text) = $0 { regex.matches(text) } else { false } } ?? false
            trace?.append("\(self): \(Operand.show(value)) is \(result)")
            return result ? .yes : .no
        case .inNetworks(let operand, let networks):
            guard let value = operand.resolve(context) else { return .unknown }
            let result =
                value.map { if case .string(let ip) = $0 { networks.contains { $0.contains(ip) } } else { false } }
                ?? false
            trace?.append("\(self): \(Operand.show(value)) is \(result)")
            return result ? .yes : .no
        case .exists(let operand):
            guard let value = operand.resolve(context) else {
                trace?.append("\(self): unknown without a valid token")
                return .unknown
            }
            trace?.append("\(self): \(value != nil)")
            return value != nil ? .yes : .no
        case .not(let inner):
            switch inner.evaluate(context, trace: &trace, coverage: coverage) {
            case .yes: return .no
            case .no: return .yes
            case .unknown: return .unknown
            }
        case .and(let left, let right):
            let a = left.evaluate(context, trace: &trace, coverage: coverage)
            coverage?.record(left, a)
            if a == .no { return .no }
            let b = right.evaluate(context, trace: &trace, coverage: coverage)
            coverage?.record(right, b)
            if b == .no { return .no }
            return a == .yes && b == .yes ? .yes : .unknown
        case .or(let left, let right):
            let a = left.evaluate(context, trace: &trace, coverage: coverage)
            coverage?.record(left, a)
            if a == .yes { return .yes }
            let b = right.evaluate(context, trace: &trace, coverage: coverage)
            coverage?.record(right, b)
            if b == .yes { return .yes }
            return a == .no && b == .no ? .no : .unknown
        }
    }

    private func holds(for identity: Identity) -> Bool {
        switch self {
        case .authenticated: true
        case .role(let name): identity.roles.contains { $0.sameBytes(name) }
        case .group(let name): identity.groups.contains { $0.sameBytes(name) }
        case .scope(let name): identity.scopes.contains { $0.sameBytes(name) }
        case .user(let name): identity.subject?.sameBytes(name) == true
        default: false
        }
    }

    /// Sub-expressions, for the properties below.
    private var children: [Expression] {
        switch self {
        case .not(let inner): [inner]
        case .and(let a, let b), .or(let a, let b): [a, b]
        default: []
        }
    }

    /// The scopes the expression asks for, for `error="insufficient_scope", scope="…"` on a
    /// 403 (not those it refuses: `not scope:x` asks for nothing).
    public var scopes: [String] {
        switch self {
        case .scope(let name): return [name]
        case .not: return []
        default:
            var unique = [String]()
            for scope in children.flatMap(\.scopes) where !unique.contains(where: { $0.sameBytes(scope) }) {
                unique.append(scope)
            }
            return unique
        }
    }

    /// Whether any outcome needs a token: false only for expressions decided without one.
    public var needsToken: Bool {
        switch self {
        case .anonymous, .deny: false
        case .authenticated, .role, .group, .scope, .user: true
        case .compare(let a, _, let b): a.readsToken || b.readsToken
        case .matches(let a, _), .inNetworks(let a, _), .exists(let a): a.readsToken
        case .not, .and, .or: children.contains(where: \.needsToken)
        }
    }

    public var description: String {
        switch self {
        case .anonymous: "anonymous"
        case .authenticated: "authenticated"
        case .deny: "deny"
        case .role(let name): "role:\(Expression.quotedIfNeeded(name))"
        case .group(let name): "group:\(Expression.quotedIfNeeded(name))"
        case .scope(let name): "scope:\(Expression.quotedIfNeeded(name))"
        case .user(let name): "user:\(Expression.quotedIfNeeded(name))"
        case .compare(let a, let op, let b): "\(a) \(op.rawValue) \(b)"
        case .matches(let a, let regex): "\(a) matches \(Operand.string(regex.description))"
        case .inNetworks(let a, let networks): "\(a) in [\(networks.map { "'\($0)'" }.joined(separator: ", "))]"
        case .exists(let a): "\(a) exists"
        case .not(let inner): "not \(inner.parenthesisedIfBinary)"
        case .and(let a, let b): "\(a.parenthesisedIfOr) and \(b.parenthesisedIfOr)"
        case .or(let a, let b): "\(a) or \(b)"
        }
    }

    private var parenthesisedIfBinary: String {
        switch self {
        case .and, .or: "(\(self))"
        default: description
        }
    }

    private var parenthesisedIfOr: String {
        if case .or = self { return "(\(self))" }
        return description
    }

    private static func quotedIfNeeded(_ name: String) -> String {
        name.utf8.allSatisfy { PolicyParser.isNameByte($0) } ? name : "'\(name)'"
    }
}

/// The comparison operators of docs/policy.md. A missing value (an absent claim or header)
/// makes every comparison false. Strings compare byte for byte: no case folding, no
/// Unicode normalisation.
public enum Comparison: String, Sendable, CaseIterable {
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case isIn = "in"
    case contains = "contains"
    case startsWith = "starts-with"
    case endsWith = "ends-with"

    func holds(_ a: JSON?, _ b: JSON?) -> Bool {
        guard let a, let b else { return false }
        switch self {
        case .equal: return Comparison.equal(a, b)
        case .notEqual: return !Comparison.equal(a, b)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let order = Comparison.order(a, b) else { return false }
            switch self {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        case .isIn:
            guard case .array(let list) = b else { return false }
            if case .array(let elements) = a {  // any element of a list claim
                return elements.contains { element in list.contains { Comparison.equal(element, $0) } }
            }
            return list.contains { Comparison.equal(a, $0) }
        case .contains:
            // A list contains its elements; a string contains its substrings, byte for byte
            // (docs/policy.md, Operators). Anything else contains nothing.
            switch (a, b) {
            case (.array(let list), _): return list.contains { Comparison.equal($0, b) }
            case (.string(let text), .string(let part)): return Comparison.substring(Array(part.utf8), of: text)
            default: return false
            }
        case .startsWith, .endsWith:
            guard case .string(let text) = a, case .string(let part) = b else { return false }
            let whole = Array(text.utf8)
            let piece = Array(part.utf8)
            return self == .startsWith ? whole.starts(with: piece) : whole.reversed().starts(with: piece.reversed())
        }
    }

    /// Whether `part` occurs in the UTF-8 bytes of `text` (the empty string occurs everywhere).
    static func substring(_ part: [UInt8], of text: String) -> Bool {
        let whole = Array(text.utf8)
        guard part.count <= whole.count else { return false }
        return (0...(whole.count - part.count)).contains { start in
            whole[start..<(start + part.count)].elementsEqual(part)
        }
    }

    static func equal(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): x.sameBytes(y)
        case (.integer(let x), .integer(let y)): x == y
        case (.integer, .real), (.real, .integer), (.real, .real): number(a)! == number(b)!
        case (.bool(let x), .bool(let y)): x == y
        case (.null, .null): true
        case (.array(let x), .array(let y)): x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        default: false
        }
    }

    /// -1, 0 or 1 for two numbers or two strings (bytes, lexicographically); nil otherwise.
    private static func order(_ a: JSON, _ b: JSON) -> Int? {
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y ? -1 : (x == y ? 0 : 1)
        case (.string(let x), .string(let y)):
            let p = Array(x.utf8)
            let q = Array(y.utf8)
            return p.lexicographicallyPrecedes(q) ? -1 : (p == q ? 0 : 1)
        default:
            guard let x = number(a), let y = number(b) else { return nil }
            return x < y ? -1 : (x == y ? 0 : 1)
        }
    }

    private static func number(_ value: JSON) -> Double? {
        switch value {
        case .integer(let x): Double(x)
        case .real(let x): x
        default: nil
        }
    }

}

/// A value an expression reads: from the token, the path, the request, or a literal.
public indirect enum Operand: Sendable, CustomStringConvertible {
    case claim(ClaimPath)
    case pathCapture(String)
    case method, ip, host
    case header(String)
    case literal(JSON)
    case list([Operand])

    /// Whether reading it needs a valid token.
    var readsToken: Bool {
        switch self {
        case .claim: true
        case .list(let elements): elements.contains(where: \.readsToken)
        default: false
        }
    }

    /// The value (nil inside: missing), or nil when it reads the token and there is none.
    func resolve(_ context: Expression.Context) -> JSON?? {
        switch self {
        case .claim(let path):
            guard let identity = context.identity else { return nil }
            return .some(JSON.object(identity.claims).value(atPath: path))
        case .pathCapture(let name):
            return .some(context.captures.first { $0.name == name }.map { .string($0.value) })
        case .method: return .some(.string(context.request.method))
        case .ip: return .some(.string(context.request.remoteIP))
        case .host: return .some(.string(context.request.host))
        case .header(let name): return .some(context.request.header(name).map(JSON.string))
        case .literal(let value): return .some(value)
        case .list(let elements):
            var values = [JSON]()
            for element in elements {
                guard let value = element.resolve(context) else { return nil }
                if let value { values.append(value) }
            }
            return .some(.array(values))
        }
    }

    public var description: String {
        switch self {
        case .claim(let path): "claims.\(path)"
        case .pathCapture(let name): "path.\(name)"
        case .method: "request.method"
        case .ip: "request.ip"
        case .host: "request.host"
        case .header(let name): "request.header.\(name)"
        case .literal(let value): Operand.show(value)
        case .list(let elements): "[\(elements.map(\.description).joined(separator: ", "))]"
        }
    }

    static func string(_ text: String) -> String {
        "'" + text.replacingAll("\\", with: "\\\\").replacingAll("'", with: "\\'") + "'"
    }

    /// A value as the trace and the CLI show it.
    static func show(_ value: JSON?) -> String {
        switch value {
        case nil: "(missing)"
        case .string(let text)?: string(text)
        case .array(let list)?: "[\(list.map { show($0) }.joined(separator: ", "))]"
        case let other?: other.serialized
        }
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
