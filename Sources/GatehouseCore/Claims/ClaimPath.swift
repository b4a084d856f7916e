/// A dot path into nested claims (`realm_access.roles`), checked when the configuration loads.
/// A name holding dots is quoted: `'https://example.com/roles'` (Auth0's namespaced claims).
public struct ClaimPath: Sendable, CustomStringConvertible {
    public let components: [String]

    public var description: String {
        components.map { $0.contains(".") ? "'\($0)'" : $0 }.joined(separator: ".")
    }

    public init?(components: [String]) {
        guard !components.isEmpty, components.allSatisfy({ !$0.isEmpty }) else { return nil }
        self.components = components
    }

    public init?(_ text: String) {
        var parts = [String]()
        var current = ""
        var quote: Character?
        var quoted = false
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "'" || character == "\"", current.isEmpty, !quoted {
                quote = character
                quoted = true
            } else if character == "." {
                parts.append(current)
                current = ""
                quoted = false
            } else if quoted {
                return nil  // text after a closing quote
            } else {
                current.append(character)
            }
        }
        guard quote == nil else { return nil }
        parts.append(current)
        self.init(components: parts)
    }
}
