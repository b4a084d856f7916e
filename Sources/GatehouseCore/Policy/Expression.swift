/// A compiled rule expression (DESIGN.md §4).
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
    case not(Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)

    /// Three-valued truth: `unknown` is what an identity predicate gives without an identity.
    public enum Truth: Sendable { case yes, no, unknown }

    /// Evaluates with an identity, or without one (`identity == nil`, no valid token). Without
    /// one, identity predicates are unknown and combine by Kleene's logic:
    ///
    ///     a        b        | a and b   a or b   | not a
    ///     yes      yes      | yes       yes      | no
    ///     yes      unknown  | unknown   yes      |
    ///     no       unknown  | no        unknown  | yes
    ///     unknown  unknown  | unknown   unknown  | unknown
    ///
    /// so a result that does not depend on who is asking is known without a token, and one
    /// that does is never decided for someone who did not prove who they are.
    public func evaluate(_ identity: Identity?, trace: inout [String]) -> Truth {
        switch self {
        case .anonymous: return .yes
        case .deny: return .no
        case .authenticated, .role, .group, .scope, .user:
            guard let identity else {
                trace.append("\(self): unknown without a valid token")
                return .unknown
            }
            let result = holds(for: identity)
            trace.append("\(self): \(result ? "true" : "false")")
            return result ? .yes : .no
        case .not(let inner):
            switch inner.evaluate(identity, trace: &trace) {
            case .yes: return .no
            case .no: return .yes
            case .unknown: return .unknown
            }
        case .and(let left, let right):
            let a = left.evaluate(identity, trace: &trace)
            if a == .no { return .no }
            let b = right.evaluate(identity, trace: &trace)
            if b == .no { return .no }
            return a == .yes && b == .yes ? .yes : .unknown
        case .or(let left, let right):
            let a = left.evaluate(identity, trace: &trace)
            if a == .yes { return .yes }
            let b = right.evaluate(identity, trace: &trace)
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

    /// Whether the expression tests scopes (a 403 then says `error="insufficient_scope"`).
    public var testsScopes: Bool {
        switch self {
        case .scope: true
        case .not(let inner): inner.testsScopes
        case .and(let a, let b), .or(let a, let b): a.testsScopes || b.testsScopes
        default: false
        }
    }

    /// The scopes the expression mentions, for the `scope` parameter of a 403.
    public var scopes: [String] {
        switch self {
        case .scope(let name): [name]
        case .not(let inner): inner.scopes
        case .and(let a, let b), .or(let a, let b): a.scopes + b.scopes
        default: []
        }
    }

    /// Whether any outcome needs a token: false only for expressions decided without one.
    public var needsToken: Bool {
        var trace = [String]()
        return evaluate(nil, trace: &trace) == .unknown
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
