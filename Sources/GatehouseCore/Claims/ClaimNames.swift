/// The top-level claims a context reads of a verified token: those its rules (and gatehouse.default)
/// compare, its roles, groups and scope claims, gatehouse.headers and gatehouse.env,
/// gatehouse.claims-schema, `sub` (the subject), and `iss` and `jti` where an audit log or rate
/// limits read them. A token verified for the token cache keeps these claims only (the payload's other members
/// are read and checked, not kept): less to convert, less memory per cached token. The cache keeps
/// what every context that verified a token reads (`TokenCache.keeping`), and a cached token that
/// lacks a claim a context reads is verified again for it.
public final class ClaimNames: Sendable {
    /// Sorted by bytes, each once; nil: every claim.
    private let names: [String]?

    /// Every claim: what is kept where no configuration says which are read (the CLI's `verify`).
    public static let all = ClaimNames(names: nil)

    private init(names: [String]?) {
        self.names = names
    }

    init(_ names: some Sequence<String>) {
        var unique = [String]()
        for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        where !(unique.last?.sameBytes(name) ?? false) {
            unique.append(name)
        }
        self.names = unique
    }

    /// What a context reads with these settings and rules, an audit log (`audited`: the caller's
    /// `sub`, `iss` and `jti`) and rate limits (`limited`: the caller is `iss` and `sub`).
    convenience init(
        settings: IdentitySettings, expressions: some Sequence<Expression>, audited: Bool, limited: Bool
    ) {
        var names = ["sub"]
        if audited { names += ["iss", "jti"] }
        if limited { names.append("iss") }
        let paths = settings.claimPaths
        names += [paths.roles, paths.groups, paths.scope].compactMap { $0?.components[0] }
        if paths.roles == nil { names.append("roles") }
        if paths.groups == nil { names.append("groups") }
        if paths.scope == nil { names += ["scope", "scp"] }
        names += (settings.headers + settings.environment).map(\.claim.components[0])
        names += settings.claimsSchema?.claims.map(\.path.components[0]) ?? []
        for expression in expressions { expression.collectClaimNames(into: &names) }
        self.init(names)
    }

    var isAll: Bool { names == nil }

    func contains(_ name: String) -> Bool {
        guard let names else { return true }
        var low = 0
        var high = names.count
        while low < high {
            let middle = (low + high) / 2
            let candidate = names[middle]
            if candidate.sameBytes(name) { return true }
            if candidate.utf8.lexicographicallyPrecedes(name.utf8) { low = middle + 1 } else { high = middle }
        }
        return false
    }

    /// Whether every claim `other` names is one of these.
    func covers(_ other: ClaimNames) -> Bool {
        if other === self || names == nil { return true }
        guard let wanted = other.names else { return false }
        return wanted.allSatisfy(contains)
    }

    /// These and `other`'s: one of the two when it covers the other.
    func union(_ other: ClaimNames) -> ClaimNames {
        if covers(other) { return self }
        if other.covers(self) { return other }
        return ClaimNames((names ?? []) + (other.names ?? []))
    }
}

/// The same object: a Configuration makes one whenever what it reads changes.
extension ClaimNames: Hashable {
    public static func == (a: ClaimNames, b: ClaimNames) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

extension Expression {
    /// Appends the first name of every claim path the expression reads.
    func collectClaimNames(into names: inout [String]) {
        switch self {
        case .anonymous, .authenticated, .deny, .role, .group, .scope, .user: break
        case .compare(let left, _, let right):
            left.collectClaimNames(into: &names)
            right.collectClaimNames(into: &names)
        case .matches(let operand, _), .inNetworks(let operand, _), .exists(let operand):
            operand.collectClaimNames(into: &names)
        case .not(let inner): inner.collectClaimNames(into: &names)
        case .and(let left, let right), .or(let left, let right):
            left.collectClaimNames(into: &names)
            right.collectClaimNames(into: &names)
        }
    }
}

extension Operand {
    func collectClaimNames(into names: inout [String]) {
        switch self {
        case .claim(let path): names.append(path.components[0])
        case .list(let elements): for element in elements { element.collectClaimNames(into: &names) }
        case .pathCapture, .method, .ip, .host, .header, .literal: break
        }
    }
}
