/// `gatehouse.role-inherits`: a role implies others (`admin` ⇒ `operator` ⇒ `viewer`), closed
/// transitively when the configuration loads. A cycle is a configuration error. Role names
/// compare byte for byte.
public struct RoleInheritance: Sendable {
    /// Each role with every role it implies, directly or not.
    private let closure: [(role: String, implied: [String])]

    public init(_ pairs: [(role: String, implied: [String])]) throws(ConfigError) {
        func direct(_ role: String) -> [String] {
            pairs.filter { $0.role.sameBytes(role) }.flatMap(\.implied)
        }
        var closure = [(role: String, implied: [String])]()
        for (role, _) in pairs where !closure.contains(where: { $0.role.sameBytes(role) }) {
            var implied = [String]()
            var pending = direct(role).map { ($0, [role, $0]) }
            var position = 0
            while position < pending.count {  // breadth first: nearer roles first
                let (next, trail) = pending[position]
                position += 1
                if next.sameBytes(role) {
                    throw ConfigError(
                        "gatehouse.role-inherits: \"\(role)\" implies itself ("
                            + trail.joined(separator: " => ") + ")")
                }
                if implied.contains(where: { $0.sameBytes(next) }) { continue }
                implied.append(next)
                pending += direct(next).map { ($0, trail + [$0]) }
            }
            closure.append((role, implied))
        }
        self.closure = closure
    }

    /// The roles with everything they imply, each once, in order.
    func expand(_ roles: [String]) -> [String] {
        var result = roles
        for role in roles {
            for entry in closure where entry.role.sameBytes(role) {
                for implied in entry.implied where !result.contains(where: { $0.sameBytes(implied) }) {
                    result.append(implied)
                }
            }
        }
        return result
    }
}
