/// Where roles, groups and scopes are read from (nil: the defaults), and what roles imply.
public struct ClaimPaths: Sendable {
    public var roles: ClaimPath?
    public var groups: ClaimPath?
    public var scope: ClaimPath?
    public var inheritance: RoleInheritance?

    public init(
        roles: ClaimPath? = nil, groups: ClaimPath? = nil, scope: ClaimPath? = nil,
        inheritance: RoleInheritance? = nil
    ) {
        self.roles = roles
        self.groups = groups
        self.scope = scope
        self.inheritance = inheritance
    }

    /// The usual names of the claims that hold roles, groups and scopes.
    private static let usualListClaims = ["roles", "groups", "scope", "scp"]

    /// Whether a claim is one Gatehouse reads as a list of names: the roles, groups and scope
    /// claims configured, and their usual names whatever is configured.
    func readsAsList(_ path: ClaimPath) -> Bool {
        if path.components.count == 1, ClaimPaths.usualListClaims.contains(path.components[0]) { return true }
        return [roles, groups, scope].contains { $0?.components == path.components }
    }
}
