/// lighttpd 1.4.69's tokenizer (`config_tokenizer()` in configfile.c), byte for byte: the same modes
/// (inside parentheses, inside a condition), the same only escape (`\"`), the same messages.
struct Lexer {
    private let input: [UInt8]
    private let source: String
    private var offset = 0
    private var line = 1
    private var lineStart = 0
    private var parens = 0
    private var inCondition = false
    private var simulateEOL = false
    private var sentFinalEOL = false
    /// Things lighttpd accepts with only a log line (a NUL byte ends the file there).
    private(set) var warnings: [LighttpdConfigError] = []

    init(bytes: [UInt8], source: String) {
        self.input = bytes
        self.source = source
    }

    /// The next token. At the end of the input lighttpd's parser is fed one more end of line, then the end.
    mutating func next() throws(LighttpdConfigError) -> Token {
        if simulateEOL {
            simulateEOL = false
            return Token(kind: .eol, text: "(EOL)", location: here)
        }
        while offset < input.count {
            let start = here
            let c = input[offset]
            switch c {
            case 0x09, 0x20:  // tab, space
                offset += 1
            case UInt8(ascii: "="):
                if parens > 0 {
                    guard byte(1) == UInt8(ascii: ">") else { throw fail("use => for assignments in arrays") }
                    offset += 2
                    return Token(kind: .arrayAssign, text: "=>", location: start)
                }
                if inCondition {
                    let kind: TokenKind
                    switch byte(1) {
                    case UInt8(ascii: "="): kind = .equal
                    case UInt8(ascii: "~"): kind = .match
                    case UInt8(ascii: "^"): kind = .prefix
                    case UInt8(ascii: "$"): kind = .suffix
                    default: throw fail("only == =~ =^ =$ are allowed in the condition")
                    }
                    return takeOperator(kind, at: start)
                }
                offset += 1
                return Token(kind: .assign, text: "=", location: start)
            case UInt8(ascii: "!"):
                guard inCondition else { throw fail("unexpected exclamation-marks: !") }
                switch byte(1) {
                case UInt8(ascii: "="): return takeOperator(.notEqual, at: start)
                case UInt8(ascii: "~"): return takeOperator(.noMatch, at: start)
                default: throw fail("only !~ and != are allowed in the condition")
                }
            case 0x0A, 0x0D:
                skipBlankLines()
                if parens == 0 { return Token(kind: .eol, text: "(EOL)", location: start) }
            case UInt8(ascii: ","):
                offset += 1
                if parens > 0 { return Token(kind: .comma, text: ",", location: start) }
            case UInt8(ascii: "\""):
                return try string(at: start)
            case UInt8(ascii: "("):
                offset += 1
                parens += 1
                return Token(kind: .leftParen, text: "(", location: start)
            case UInt8(ascii: ")"):
                guard parens > 0 else { throw fail("close-parens seen open-parens") }
                offset += 1
                parens -= 1
                return Token(kind: .rightParen, text: ")", location: start)
            case UInt8(ascii: "$"):
                offset += 1
                inCondition = true
                return Token(kind: .dollar, text: "$", location: start)
            case UInt8(ascii: "+"):
                if byte(1) == UInt8(ascii: "=") {
                    offset += 2
                    return Token(kind: .append, text: "+=", location: start)
                }
                offset += 1
                return Token(kind: .plus, text: "+", location: start)
            case UInt8(ascii: ":"):
                guard byte(1) == UInt8(ascii: "=") else { throw fail("unexpected character ':'") }
                offset += 2
                return Token(kind: .forceAssign, text: ":=", location: start)
            case UInt8(ascii: "{"):
                offset += 1
                return Token(kind: .leftCurly, text: "{", location: start)
            case UInt8(ascii: "}"):
                afterRightCurly()
                return Token(kind: .rightCurly, text: "}", location: start)
            case UInt8(ascii: "["):
                offset += 1
                return Token(kind: .leftBracket, text: "[", location: start)
            case UInt8(ascii: "]"):
                offset += 1
                return Token(kind: .rightBracket, text: "]", location: start)
            case UInt8(ascii: "#"):
                skipComment()
            case 0:
                // lighttpd logs "stray NUL" and treats it as the end of the file.
                warnings.append(LighttpdConfigError(start, "stray NUL: lighttpd ignores the rest of this file"))
                offset = input.count
            default:
                if let token = try word(at: start) { return token }
            }
        }
        if !sentFinalEOL {
            sentFinalEOL = true
            return Token(kind: .eol, text: "(EOL)", location: here)
        }
        return Token(kind: .endOfInput, text: "", location: here)
    }

    // MARK: - Pieces of the tokenizer

    private var here: SourceLocation { SourceLocation(file: source, line: line, column: offset - lineStart + 1) }

    private func byte(_ ahead: Int) -> UInt8 {
        offset + ahead < input.count ? input[offset + ahead] : 0
    }

    private func fail(_ message: String) -> LighttpdConfigError {
        LighttpdConfigError(here, message)
    }

    private mutating func takeOperator(_ kind: TokenKind, at start: SourceLocation) -> Token {
        let text = String(decoding: input[offset..<offset + 2], as: UTF8.self)
        offset += 2
        inCondition = false
        return Token(kind: kind, text: text, location: start)
    }

    private mutating func newLine() {
        offset += (input[offset] == 0x0D && byte(1) == 0x0A) ? 2 : 1
        line += 1
        lineStart = offset
    }

    /// Newlines, comments, spaces and tabs, all folded into one end of line.
    private mutating func skipBlankLines() {
        while offset < input.count {
            switch input[offset] {
            case 0x0A, 0x0D: newLine()
            case UInt8(ascii: "#"): skipComment()
            case 0x09, 0x20: offset += 1
            default: return
            }
        }
    }

    private mutating func skipComment() {
        repeat { offset += 1 } while offset < input.count && ![0, 0x0A, 0x0D].contains(input[offset])
    }

    /// After `}`, anything but a comment or the end of the line is preceded by a made-up end of line
    /// (so `} else {` parses).
    private mutating func afterRightCurly() {
        offset += 1
        while offset < input.count {
            let c = input[offset]
            if c == 0x0A || c == 0x0D { return }
            if c == UInt8(ascii: "#") {
                skipComment()
                return
            }
            if c != 0x20 && c != 0x09 {
                simulateEOL = true
                return
            }
            offset += 1
        }
    }

    /// A double-quoted string: `\"` is a quote, every other backslash is itself; newlines are kept.
    private mutating func string(at start: SourceLocation) throws(LighttpdConfigError) -> Token {
        var bytes = [UInt8]()
        var i = offset + 1
        while i < input.count && input[i] != UInt8(ascii: "\"") && input[i] != 0 {
            if input[i] == UInt8(ascii: "\\") && i + 1 < input.count && input[i + 1] == UInt8(ascii: "\"") {
                i += 1
            }
            bytes.append(input[i])
            i += 1
        }
        guard i < input.count && input[i] == UInt8(ascii: "\"") else {
            throw LighttpdConfigError(start, "missing closing quote")
        }
        for j in offset..<i where input[j] == 0x0A || (input[j] == 0x0D && input[j + 1] != 0x0A) {
            line += 1
            lineStart = j + 1
        }
        offset = i + 1
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw LighttpdConfigError(
                start,
                "string is not valid UTF-8 (lighttpd takes the bytes as they are; "
                    + "Gatehouse refuses what it cannot compare faithfully)")
        }
        return Token(kind: .string, text: text, location: start)
    }

    /// A condition's name (`HTTP`), a number, a key, or a keyword.
    private mutating func word(at start: SourceLocation) throws(LighttpdConfigError) -> Token? {
        func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") }
        func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        var i = 0
        if inCondition {
            while isAlpha(byte(i)) || byte(i) == UInt8(ascii: "_") { i += 1 }
            guard i > 0 && byte(i) != 0 else { throw fail("invalid character in condition") }
            return take(.serverVariable, count: i, at: start)
        }
        if isDigit(byte(0)) {
            while isDigit(byte(i)) { i += 1 }
            return take(.integer, count: i, at: start)
        }
        while isAlpha(byte(i)) || isDigit(byte(i))
            || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-")]
                .contains(byte(i))
        { i += 1 }
        if i > 0 && byte(i) != 0 {
            let token = take(.key, count: i, at: start)
            switch token.text {
            case "include": return Token(kind: .include, text: token.text, location: start)
            case "include_shell": return Token(kind: .includeShell, text: token.text, location: start)
            case "global": return Token(kind: .global, text: token.text, location: start)
            case "else": return Token(kind: .else, text: token.text, location: start)
            default: return token
            }
        }
        if i == 0 && byte(0) == 0xC2 && byte(1) == 0xA0 {  // U+00A0 NO-BREAK SPACE counts as a space
            offset += 2
            return nil
        }
        throw fail("invalid character in variable name")
    }

    private mutating func take(_ kind: TokenKind, count: Int, at start: SourceLocation) -> Token {
        let text = String(decoding: input[offset..<offset + count], as: UTF8.self)
        offset += count
        return Token(kind: kind, text: text, location: start)
    }
}
