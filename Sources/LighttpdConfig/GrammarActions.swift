/// The actions of configparser.y's rules, by rule number (the numbering of the generated configparser.c).
/// `values` holds the right side's symbols; the result is the left side's value.
extension ConfigBuilder {
    typealias Minor = LemonParser.Minor

    /// `below` is the symbol under the right side on the stack (the `else` before an `else {` block).
    func reduce(rule: Int, _ values: [Minor], below: Minor, lookahead: Token) throws(LighttpdConfigError) -> Minor {
        switch rule {
        case 1, 2, 3:  // varline ::= key ASSIGN|FORCE_ASSIGN|APPEND expression
            guard case .key(let key, let location) = values[0], case .value(let value, _) = values[2] else { break }
            switch rule {
            case 1: try assign(key, value, at: location)
            case 2: try replace(key, value, at: location)
            default: try append(key, value, at: location)
            }
        case 4:  // key ::= LKEY — a name without a dot is a `var.`
            guard case .token(let token) = values[0] else { break }
            return .key(token.text.contains(".") ? token.text : "var." + token.text, token.location)
        case 5:  // expression ::= expression PLUS value
            guard case .value(let left, let location) = values[0], case .value(let right, let at) = values[2]
            else { break }
            return .value(try merge(left, right, at: at), location)
        case 6, 10:  // expression ::= value; value ::= array
            return values[0]
        case 7:  // value ::= key
            guard case .key(let key, let location) = values[0] else { break }
            return .value(try value(ofKey: key, at: location), location)
        case 8:  // value ::= STRING
            guard case .token(let token) = values[0] else { break }
            return .value(.string(token.text), token.location)
        case 9:  // value ::= INTEGER — strtol() into a C long, kept in an int
            guard case .token(let token) = values[0] else { break }
            guard let number = Int64(token.text) else {
                throw LighttpdConfigError(token.location, "error parsing number: '\(token.text)'")
            }
            let kept = Int32(truncatingIfNeeded: number)
            if Int64(kept) != number {
                warn(
                    token.location,
                    "\(token.text) does not fit lighttpd's 32-bit integers: lighttpd reads it as \(kept)")
            }
            return .value(.integer(kept), token.location)
        case 11:  // array ::= LPARAN RPARAN
            return .value(.array([]), tokenLocation(values[0]) ?? lookahead.location)
        case 12:  // array ::= LPARAN aelements RPARAN
            guard case .elements(let elements) = values[1] else { break }
            return .value(.array(elements), tokenLocation(values[0]) ?? lookahead.location)
        case 13:  // aelements ::= aelements COMMA aelement
            guard case .elements(var elements) = values[0], case .element(let key, let value) = values[2] else { break }
            if let key, elements.contains(where: { $0.key.map { Value.sameKey($0, key) } ?? false }) {
                let location = tokenLocation(values[1]) ?? lookahead.location
                throw LighttpdConfigError(
                    location,
                    "Error: duplicate array-key: \(key). Please get rid of the "
                        + "duplicate entry.")
            }
            elements.append(.init(key: key, value: value))
            return .elements(elements)
        case 14:  // aelements ::= aelements COMMA
            return values[0]
        case 15:  // aelements ::= aelement
            guard case .element(let key, let value) = values[0] else { break }
            return .elements([.init(key: key, value: value)])
        case 16:  // aelement ::= expression
            guard case .value(let value, _) = values[0] else { break }
            return .element(key: nil, value: value)
        case 17:  // aelement ::= stringop ARRAY_ASSIGN expression
            guard case .string(let key, _) = values[0], case .value(let value, _) = values[2] else { break }
            return .element(key: key, value: value)
        case 18:  // globalstart ::= GLOBAL
            try openGlobal(at: tokenLocation(values[0]) ?? lookahead.location)
        case 19:  // global ::= globalstart LCURLY metalines RCURLY
            _ = pop()
        case 20, 21:  // condlines ::= condlines eols ELSE condline|cond_else
            guard case .context(let previous) = values[0], case .context(let branch) = values[3] else { break }
            let location = tokenLocation(values[2]) ?? lookahead.location
            if rule == 20 {
                try chain(previous, branch, at: location)
            } else {
                try chainElse(previous, branch, at: location)
            }
            return .context(branch)
        case 22:  // condlines ::= condline
            return values[0]
        case 23, 24:  // condline ::= context LCURLY metalines RCURLY; cond_else ::= context_else LCURLY …
            return .context(pop())
        case 25:  // context ::= DOLLAR SRVVARNAME LBRACKET stringop RBRACKET cond expression
            guard case .token(let dollar) = values[0], case .token(let object) = values[1],
                case .string(let tag, _) = values[3], case .op(let op) = values[5],
                case .value(let value, _) = values[6]
            else { break }
            guard case .string(let text) = value else {
                throw LighttpdConfigError(dollar.location, "rvalue must be string")
            }
            try openCondition(object: object.text, tag: tag, op: op, value: text, at: dollar.location)
        case 26:  // context_else ::= (nothing, before the `{` of `else {`)
            try openElse(at: tokenLocation(below) ?? lookahead.location)
        case 27...32:  // cond ::= EQ | MATCH | NE | NOMATCH | PREFIX | SUFFIX
            guard case .token(let token) = values[0] else { break }
            return .op(ConditionOperator(token.kind))
        case 33:  // stringop ::= expression
            guard case .value(let value, let location) = values[0] else { break }
            switch value {
            case .string(let text): return .string(text, location)
            case .integer(let number): return .string(String(number), location)
            case .array: throw LighttpdConfigError(location, "operand must be string")
            }
        case 34, 35:  // include ::= INCLUDE stringop; include_shell ::= INCLUDE_SHELL stringop
            guard case .token(let keyword) = values[0], case .string(let operand, _) = values[1] else { break }
            if rule == 34 {
                try include(operand, at: keyword.location)
            } else {
                try includeShell(operand, at: keyword.location)
            }
        default:  // 0 and 36…45: rules without actions
            break
        }
        return .none
    }

    private func tokenLocation(_ minor: Minor) -> SourceLocation? {
        if case .token(let token) = minor { return token.location }
        return nil
    }
}
