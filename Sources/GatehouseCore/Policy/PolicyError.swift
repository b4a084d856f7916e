/// A problem found while compiling a rule, with the column it points at (1-based) and the
/// text it points into, so it can be shown with a caret under the problem.
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let source: String
    public let column: Int
    /// The rule (`"PATTERN" => "EXPRESSION"`) the problem is in, when there is one.
    public let rule: String?

    init(_ message: String, in source: String, at offset: Int, rule: String? = nil) {
        self.message = message
        self.source = source
        self.column = offset + 1
        self.rule = rule
    }

    /// The same problem, in the rule `"PATTERN" => "EXPRESSION"`.
    func naming(pattern: String, expression: String) -> PolicyError {
        PolicyError(message, in: source, at: column - 1, rule: "\"\(pattern)\" => \"\(expression)\"")
    }

    /// `rule …: message at column N:` then the source and a caret under column N.
    public var description: String {
        let caret = String(repeating: " ", count: max(0, column - 1)) + "^"
        return (rule.map { "rule \($0): " } ?? "") + "\(message) at column \(column):\n    \(source)\n    \(caret)"
    }
}
