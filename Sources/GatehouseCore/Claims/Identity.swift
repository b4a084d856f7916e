/// Who a verified token says the caller is, in the terms rules test.
public struct Identity: Sendable {
    public let claims: JSONObject
    public let subject: String?
    public let roles: [String]
    public let groups: [String]
    public let scopes: [String]

    private static let defaultRoles = ClaimPath("roles")!
    private static let defaultGroups = ClaimPath("groups")!
    private static let defaultScopes = [ClaimPath("scope")!, ClaimPath("scp")!]

    public init(claims: JSONObject, names: ClaimPaths) {
        self.claims = claims
        subject = claims["sub"]?.stringValue
        let root = JSON.object(claims)
        let granted = Identity.list(root.value(atPath: names.roles ?? Identity.defaultRoles), splitOnSpaces: false)
        roles = names.inheritance?.expand(granted) ?? granted
        groups = Identity.list(root.value(atPath: names.groups ?? Identity.defaultGroups), splitOnSpaces: false)
        let scopePaths = names.scope.map { [$0] } ?? Identity.defaultScopes
        scopes =
            scopePaths.lazy.map { Identity.list(root.value(atPath: $0), splitOnSpaces: true) }
            .first { !$0.isEmpty } ?? []
    }

    /// A claim as a list of names: a string is one name (or, for scopes, space-separated
    /// names, RFC 8693 §4.2); an array gives its string elements; anything else gives none.
    private static func list(_ value: JSON?, splitOnSpaces: Bool) -> [String] {
        switch value {
        case .string(let text)?:
            return splitOnSpaces ? text.split(separator: " ").map(String.init) : [text]
        case .array(let elements)?:
            return elements.compactMap(\.stringValue)
        default:
            return []
        }
    }
}
