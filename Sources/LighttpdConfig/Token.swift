/// The terminal symbols of lighttpd's grammar; raw values are the `TK_*` codes of configparser.c,
/// which index the parse tables.
enum TokenKind: UInt8, Sendable {
    case endOfInput = 0
    case eol = 1
    case assign, forceAssign, append, key, plus, string, integer, leftParen, rightParen, comma
    case arrayAssign, global, leftCurly, rightCurly, `else`, dollar, serverVariable, leftBracket, rightBracket
    case equal, match, notEqual, noMatch, prefix, suffix, include, includeShell
}

/// One token: its kind, its text (the unescaped contents for a string) and where it starts.
struct Token: Sendable {
    let kind: TokenKind
    let text: String
    let location: SourceLocation

    /// How lighttpd's messages show a token ("parser failed somehow near here: …").
    var shown: String {
        switch kind {
        case .endOfInput: "end of input"
        case .eol: "end of line"
        case .string: "\"\(text)\""
        default: "'\(text)'"
        }
    }
}
