/// Parses a rule expression (docs/policy.md, "Expressions"):
///
///     expr      := or
///     or        := and ( "or" and )*
///     and       := not ( "and" not )*
///     not       := "not" not | primary
///     primary   := "(" expr ")" | "anonymous" | "authenticated" | "deny"
///                | "role:" NAME | "group:" NAME | "scope:" NAME | "user:" NAME
///                | operand OP operand | operand "exists"
///     operand   := "claims." PATH | "path." NAME | "request.method" | "request.ip"
///                | "request.host" | "request.header." NAME | STRING | NUMBER | "true" | "false"
///                | "[" operand ( "," operand )* "]"
///     OP        := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "contains"
///                | "starts-with" | "ends-with" | "matches"
///
/// NAME is a run of letters, digits and `_ - . / @ + * # ~ | :` (so `role:pulsar.admin` and
/// `scope:api://x/read` need no quotes), or a string in single or double quotes. A claim
/// PATH is names joined by dots; a quoted name may hold dots (`claims.'https://x.io/roles'`).
/// Keywords are case-sensitive. Types are checked here: `path.` names the rule's captures,
/// `matches` takes a string that compiles as a PCRE2 regular expression, `in` takes a list
/// (of addresses and CIDR blocks after `request.ip`), and, given gatehouse.claims-schema, a
/// comparison with a declared claim must be able to hold (`ClaimsSchema+Rules`).
public struct PolicyParser {
    private let text: String
    private let bytes: [UInt8]
    private var position = 0
    /// The captures of the rule's pattern (`{tenant}`); nil where there is no pattern.
    private let captures: [String]?
    /// gatehouse.claims-schema, when the comparisons are checked against it.
    private let schema: ClaimsSchema?

    /// The deepest nesting of parentheses, `not` and lists, which bounds the recursion.
    static let maximumDepth = 64
    private var depth = 0

    public static func parse(
        _ text: String, captures: [String]? = nil, schema: ClaimsSchema? = nil
    ) throws(PolicyError) -> Expression {
        var parser = PolicyParser(text: text, captures: captures, schema: schema)
        let expression = try parser.parseOr()
        parser.skipSpace()
        if parser.position < parser.bytes.count {
            throw parser.error(
                parser.bytes[parser.position] == UInt8(ascii: ")")
                    ? "unbalanced ')'" : "expected 'and', 'or' or the end")
        }
        return expression
    }

    private init(text: String, captures: [String]?, schema: ClaimsSchema?) {
        self.text = text
        self.bytes = Array(text.utf8)
        self.captures = captures
        self.schema = schema
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
        while acceptWord("or") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(PolicyError) -> Expression {
        var left = try parseNot()
        while acceptWord("and") { left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws(PolicyError) -> Expression {
        if acceptWord("not") {
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
        let word = peekWord()
        if let colon = word.firstIndex(of: ":"), colon > word.startIndex {
            let predicate = String(word[..<colon])
            let make: ((String) -> Expression)? =
                switch predicate {
                case "role": Expression.role
                case "group": Expression.group
                case "scope": Expression.scope
                case "user": Expression.user
                default: nil
                }
            if let make {
                position += predicate.utf8.count + 1
                return make(try parseName(after: predicate))
            }
            if !predicate.contains(".") {
                throw PolicyError(
                    "unknown predicate '\(predicate):' (expected role:, group:, scope: or user:)",
                    in: text, at: start)
            }
        }
        switch word {
        case "anonymous", "authenticated", "deny":
            position += word.utf8.count
            return word == "anonymous" ? .anonymous : word == "deny" ? .deny : .authenticated
        default:
            break
        }
        let left = try parseOperand()
        return try parseComparison(left, at: start)
    }

    /// After an operand: an operator and its right side, or `exists`.
    private mutating func parseComparison(_ left: Operand, at start: Int) throws(PolicyError) -> Expression {
        skipSpace()
        let operatorStart = position
        if acceptWord("exists") {
            switch left {
            case .claim, .header, .pathCapture: return .exists(left)
            default:
                throw PolicyError(
                    "'exists' applies to claims., request.header. and path. operands",
                    in: text, at: operatorStart)
            }
        }
        guard let accepted = acceptOperator() else {
            if case .literal = left, position == start { throw error("expected an expression") }
            throw PolicyError(
                "expected an operator (==, !=, <, <=, >, >=, in, contains, starts-with, ends-with, "
                    + "matches) or 'exists'", in: text, at: operatorStart)
        }
        skipSpace()
        let rightStart = position
        guard let comparison = accepted else {  // matches
            guard case .literal(.string(let pattern)) = try parseOperand() else {
                throw PolicyError("'matches' takes a regular expression in quotes", in: text, at: rightStart)
            }
            if let problem = schema?.problem(matching: left) {
                throw PolicyError(problem, in: text, at: operatorStart)
            }
            do {
                return .matches(left, try Regex(pattern))
            } catch {
                throw PolicyError(
                    "bad regular expression: \(error.message)", in: text,
                    at: rightStart + 1 + min(error.offset, pattern.utf8.count))
            }
        }
        let right = try parseOperand()
        switch comparison {
        case .isIn:
            if case .ip = left {
                guard case .list(let elements) = right else {
                    throw PolicyError(
                        "'request.ip in' takes a list of addresses and CIDR blocks", in: text,
                        at: rightStart)
                }
                var networks = [IPNetwork]()
                for element in elements {
                    guard case .literal(.string(let cidr)) = element else {
                        throw PolicyError(
                            "expected addresses and CIDR blocks in quotes ('10.0.0.0/8', '::1')",
                            in: text, at: rightStart)
                    }
                    guard let network = IPNetwork(cidr) else {
                        // the caret under the entry itself, when it is written as it reads
                        let quoted = Array("'\(cidr)'".utf8)
                        let entry = (rightStart..<bytes.count).first { bytes[$0...].starts(with: quoted) }
                        throw PolicyError(IPNetwork.problem(with: cidr), in: text, at: (entry ?? rightStart) + 1)
                    }
                    networks.append(network)
                }
                return .inNetworks(left, networks)
            }
            switch right {
            case .list, .claim: break
            default: throw PolicyError("'in' takes a list ([...]) or a claim", in: text, at: rightStart)
            }
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            for (operand, at) in [(left, start), (right, rightStart)] {
                switch operand {
                case .literal(.bool), .literal(.null), .list:
                    throw PolicyError("'\(comparison.rawValue)' compares numbers or strings", in: text, at: at)
                default: break
                }
            }
        default:
            break
        }
        if let problem = schema?.problem(left, comparison, right) {
            throw PolicyError(problem, in: text, at: operatorStart)
        }
        return .compare(left, comparison, right)
    }

    /// Returns `.some(nil)` for `matches`, `.some(op)` for a comparison, nil for neither.
    private mutating func acceptOperator() -> Comparison?? {
        for symbol in ["==", "!=", "<=", ">=", "<", ">"] where bytes[position...].starts(with: symbol.utf8) {
            position += symbol.utf8.count
            return .some(Comparison(rawValue: symbol))
        }
        if acceptWord("matches") { return .some(nil) }
        for word in ["in", "contains", "starts-with", "ends-with"] where acceptWord(word) {
            return .some(Comparison(rawValue: word))
        }
        return nil
    }

    private mutating func parseOperand() throws(PolicyError) -> Operand {
        skipSpace()
        guard position < bytes.count else { throw error("expected a value") }
        let start = position
        let byte = bytes[position]
        if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
            return .literal(.string(try parseString()))
        }
        if byte == UInt8(ascii: "[") {
            position += 1
            try descend()
            defer { depth -= 1 }
            var elements = [Operand]()
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                throw error("a list needs at least one element")
            }
            while true {
                elements.append(try parseOperand())
                skipSpace()
                guard position < bytes.count else { throw PolicyError("'[' is never closed", in: text, at: start) }
                if bytes[position] == UInt8(ascii: "]") {
                    position += 1
                    return .list(elements)
                }
                guard bytes[position] == UInt8(ascii: ",") else { throw error("expected ',' or ']'") }
                position += 1
            }
        }
        if byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
            return .literal(try parseNumber())
        }
        let word = peekWord()
        switch word {
        case "true", "false":
            position += word.utf8.count
            return .literal(.bool(word == "true"))
        case "request.method":
            position += word.utf8.count
            return .method
        case "request.ip":
            position += word.utf8.count
            return .ip
        case "request.host":
            position += word.utf8.count
            return .host
        default: break
        }
        if word.hasPrefix("request.header.") {
            let name = String(word.dropFirst("request.header.".count))
            guard IdentityField.isHeaderName(name) else {
                throw PolicyError("expected a header name after 'request.header.'", in: text, at: start + 15)
            }
            position += word.utf8.count
            return .header(name)
        }
        if word.hasPrefix("path.") {
            let name = String(word.dropFirst(5))
            guard let captures, captures.contains(name) else {
                let known =
                    captures.map {
                        $0.isEmpty
                            ? "the pattern has no {captures}"
                            : "the pattern has "
                                + $0.map { "{\($0)}" }.joined(separator: ", ")
                    } ?? "gatehouse.default has no pattern"
                throw PolicyError("unknown 'path.\(name)' (\(known))", in: text, at: start)
            }
            position += word.utf8.count
            return .pathCapture(name)
        }
        if word == "claims" || word.hasPrefix("claims.") {
            position += 6
            return .claim(try parseClaimPath())
        }
        if word.isEmpty { throw error("expected a value") }
        throw error(
            "unknown keyword '\(word)' (expected anonymous, authenticated, deny, role:NAME, group:NAME, "
                + "scope:NAME, user:NAME, not, '(' or a value: claims., path., request., a string, a number)")
    }

    /// `claims` has been read: `.name`, then more `.name`s; a name may be quoted.
    private mutating func parseClaimPath() throws(PolicyError) -> ClaimPath {
        var components = [String]()
        while position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count else { break }
            if bytes[position] == UInt8(ascii: "'") || bytes[position] == UInt8(ascii: "\"") {
                components.append(try parseString())
                continue
            }
            let start = position
            while position < bytes.count, PolicyParser.isNameByte(bytes[position]),
                bytes[position] != UInt8(ascii: ".")
            { position += 1 }
            guard position > start else { break }
            components.append(String(decoding: bytes[start..<position], as: UTF8.self))
        }
        guard let path = ClaimPath(components: components) else { throw error("expected a claim name after 'claims.'") }
        return path
    }

    private mutating func parseString() throws(PolicyError) -> String {
        let quote = bytes[position]
        let open = position
        position += 1
        var value = [UInt8]()
        while position < bytes.count {
            let byte = bytes[position]
            if byte == quote {
                position += 1
                return String(decoding: value, as: UTF8.self)
            }
            // Only a quote or a backslash is escaped; any other backslash stays (regexes need `\d`).
            if byte == UInt8(ascii: "\\"), position + 1 < bytes.count,
                bytes[position + 1] == quote || bytes[position + 1] == UInt8(ascii: "\\")
            {
                position += 1
            }
            value.append(bytes[position])
            position += 1
        }
        throw PolicyError("string is never closed", in: text, at: open)
    }

    private mutating func parseNumber() throws(PolicyError) -> JSON {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        while position < bytes.count,
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) || bytes[position] == UInt8(ascii: ".")
        {
            position += 1
        }
        let literal = String(decoding: bytes[start..<position], as: UTF8.self)
        if let integer = Int64(literal) { return .integer(integer) }
        if let real = Double(literal), real.isFinite, literal.last != "." { return .real(real) }
        throw PolicyError("not a number", in: text, at: start)
    }

    private mutating func parseName(after predicate: String) throws(PolicyError) -> String {
        guard position < bytes.count else { throw error("expected a name after '\(predicate):'") }
        if bytes[position] == UInt8(ascii: "'") || bytes[position] == UInt8(ascii: "\"") {
            let open = position
            let name = try parseString()
            guard !name.isEmpty else { throw PolicyError("empty name", in: text, at: open) }
            return name
        }
        let start = position
        while position < bytes.count, PolicyParser.isNameByte(bytes[position]) { position += 1 }
        guard position > start else { throw error("expected a name after '\(predicate):'") }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// The run of name bytes at the current position (after spaces), not consumed.
    private mutating func peekWord() -> String {
        skipSpace()
        var end = position
        while end < bytes.count, PolicyParser.isNameByte(bytes[end]) { end += 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    private mutating func acceptWord(_ word: String) -> Bool {
        skipSpace()
        let expected = Array(word.utf8)
        guard bytes[position...].starts(with: expected) else { return false }
        let after = position + expected.count
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

    private func error(_ message: String) -> PolicyError {
        PolicyError(message, in: text, at: position)
    }
}
