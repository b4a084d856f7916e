/// `gatehouse.path-checks`: request paths that one backend reads as another path, refused with
/// 400 before any rule is chosen. Each check can be turned off for a backend that needs such
/// paths (docs/security.md says what each one guards against).
public struct PathChecks: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `;` anywhere: Tomcat, Jetty and Spring drop `;params` from a segment (`/public/..;/api/x`).
    public static let semicolon = PathChecks(rawValue: 1)
    /// `\`: IIS and some Java frameworks read it as `/`.
    public static let backslash = PathChecks(rawValue: 2)
    /// A `%` left after lighttpd decoded the path: double encoding (`%252e%252e`) that a backend
    /// decoding again reads as another path.
    public static let doubleEncoding = PathChecks(rawValue: 4)
    /// Control characters (lighttpd refuses most itself unless told otherwise).
    public static let controlCharacters = PathChecks(rawValue: 8)
    public static let all: PathChecks = [.semicolon, .backslash, .doubleEncoding, .controlCharacters]

    /// The names the directive takes, in order.
    public static let names: [(name: String, check: PathChecks)] = [
        ("semicolon", .semicolon), ("backslash", .backslash), ("double-encoding", .doubleEncoding),
        ("control-characters", .controlCharacters),
    ]

    /// Why `path` is refused, or nil.
    func problem(in path: [UInt8]) -> String? {
        for byte in path {
            if byte == UInt8(ascii: ";"), contains(.semicolon) { return "a ';' in the path" }
            if byte == UInt8(ascii: "\\"), contains(.backslash) { return "a '\\' in the path" }
            if byte == UInt8(ascii: "%"), contains(.doubleEncoding) {
                return "a '%' left in the path after decoding (double encoding)"
            }
            if byte < 0x20 || byte == 0x7F, contains(.controlCharacters) { return "a control character in the path" }
        }
        return nil
    }
}
