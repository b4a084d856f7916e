/// Parses a rule expression (DESIGN.md §4):
///
///     expr    := or
///     or      := and ( "or" and )*
///     and     := not ( "and" not )*
///     not     := "not" not | primary
///     primary := "(" expr ")" | "anonymous" | "authenticated" | "deny"
///              | "role:" NAME | "group:" NAME | "scope:" NAME | "user:" NAME
///
/// NAME is a run of letters, digits and `_ - . / @ + * # ~ |` (so `role:pulsar.admin` and
/// `scope:api://x/read` need no quotes), or a string in single or double quotes.
/// Keywords are case-sensitive.
public struct PolicyParser {
    private let text: String
    private let bytes: [UInt8]
    private var position = 0

    /// The deepest nesting of parentheses and `not`, which bounds the parser's recursion.
    static let maximumDepth = 64
    private var depth = 0

    public static func parse(_ text: String) throws(PolicyError) -> Expression {
        var parser = PolicyParser(text: text)
        let expression = try parser.parseOr()
        parser.skipSpace()
        if parser.position < parser.bytes.count {
            throw parser.error(parser.peekWord() == ")" ? "unbalanced ')'" : "expected 'and', 'or' or the end")
        }
        return expression
    }

    private init(text: String) {
        self.text = text
        self.bytes = Array(text.utf8)
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "_-./@+*#~|:".utf8.contains(byte) || byte >= 0x80
        }
    }

    private mutating func parseOr() throws(PolicyError) -> Expression {
        var left = try parseAnd()
        while acceptKeyword("or") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(PolicyError) -> Expression {
        var left = try parseNot()
        while acceptKeyword("and") { left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws(PolicyError) -> Expression {
        if acceptKeyword("not") {
            try descend()
            defer { depth -= 1 }
            return .not(try parseNot())
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(PolicyError) -> Expression {
        skipSpace()
        guard position < bytes.count else { throw error("expected an expression") }
        if bytes[position] == UInt8(ascii: "(") {
            let open = position
            position += 1
            try descend()
            defer { depth -= 1 }
            let inner = try parseOr()
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ")") else {
                throw PolicyError("'(' is never closed", in: text, at: open)
            }
            position += 1
            return inner
        }
        let start = position
        var end = position
        while end < bytes.count, PolicyParser.isNameByte(bytes[end]), bytes[end] != UInt8(ascii: ":") { end += 1 }
        let word = String(decoding: bytes[start..<end], as: UTF8.self)
        if end < bytes.count, bytes[end] == UInt8(ascii: ":") {
            let make: ((String) -> Expression)? = switch word {
            case "role": Expression.role
            case "group": Expression.group
            case "scope": Expression.scope
            case "user": Expression.user
            default: nil
            }
            guard let make else {
                throw PolicyError("unknown predicate '\(word):' (expected role:, group:, scope: or user:)",
                                  in: text, at: start)
            }
            position = end + 1
            return make(try parseName(after: word))
        }
        position = end
        switch word {
        case "anonymous": return .anonymous
        case "authenticated": return .authenticated
        case "deny": return .deny
        case "":
            position = start
            throw error("expected an expression")
        default:
            position = start
            throw error("unknown keyword '\(word)' (expected anonymous, authenticated, deny, role:NAME, "
                        + "group:NAME, scope:NAME, user:NAME, not or '(')")
        }
    }

    private mutating func parseName(after predicate: String) throws(PolicyError) -> String {
        guard position < bytes.count else { throw error("expected a name after '\(predicate):'") }
        let quote = bytes[position]
        if quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") {
            let open = position
            guard let close = bytes[(position + 1)...].firstIndex(of: quote) else {
                throw PolicyError("string is never closed", in: text, at: open)
            }
            guard close > open + 1 else { throw PolicyError("empty name", in: text, at: open) }
            position = close + 1
            return String(decoding: bytes[(open + 1)..<close], as: UTF8.self)
        }
        let start = position
        while position < bytes.count, PolicyParser.isNameByte(bytes[position]) { position += 1 }
        guard position > start else { throw error("expected a name after '\(predicate):'") }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func acceptKeyword(_ keyword: String) -> Bool {
        skipSpace()
        let word = Array(keyword.utf8)
        guard bytes[position...].starts(with: word) else { return false }
        let after = position + word.count
        if after < bytes.count, PolicyParser.isNameByte(bytes[after]) { return false }
        position = after
        return true
    }

    private mutating func descend() throws(PolicyError) {
        depth += 1
        if depth > PolicyParser.maximumDepth { throw error("nested more than \(PolicyParser.maximumDepth) levels") }
    }

    private mutating func skipSpace() {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x09 { position += 1 }
    }

    private func peekWord() -> String {
        position < bytes.count ? String(decoding: [bytes[position]], as: UTF8.self) : ""
    }

    private func error(_ message: String) -> PolicyError {
        PolicyError(message, in: text, at: position)
    }
}
