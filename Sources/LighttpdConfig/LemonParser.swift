/// lempar.c's LALR(1) driver over lighttpd's tables (ParserTables.swift), with lemon's error recovery as
/// lighttpd builds it (no `error` symbol): a token the grammar cannot use at that point is dropped without
/// a word, and only the end of the input can fail. So lighttpd accepts `$HTTP["url"] == "/a"` with its
/// `{` on the next line (the end of line is dropped), and so does this parser; other dropped tokens
/// become warnings.
struct LemonParser {
    /// A grammar symbol's value on the stack (lemon's "minor" value).
    enum Minor {
        case none
        case token(Token)
        case key(String, SourceLocation)
        case value(Value, SourceLocation)
        case element(key: String?, value: Value)
        case elements([Value.Element])
        case string(String, SourceLocation)
        case op(ConditionOperator)
        case context(Int)
    }

    private struct Entry {
        var state: Int
        var major: UInt8
        var minor: Minor
    }

    private var stack = [Entry(state: 0, major: 0, minor: .none)]
    private let builder: ConfigBuilder
    /// The first token dropped, for the message when the input then cannot be completed.
    private var firstDropped: Token?

    init(builder: ConfigBuilder) {
        self.builder = builder
    }

    /// Feed one token (`configparser()`); `.endOfInput` ends the parse.
    mutating func feed(_ token: Token) throws(LighttpdConfigError) {
        let major = token.kind.rawValue
        var action = stack[stack.count - 1].state
        while true {
            action = shiftAction(state: action, lookahead: major)
            if action >= ParserTables.minReduce {
                let rule = action - ParserTables.minReduce
                if ParserTables.ruleRightSideCount[rule] == 0 && stack.count >= ParserTables.stackDepth {
                    throw overflow(token)
                }
                action = try reduce(rule: rule, lookahead: token)
            } else if action <= ParserTables.maxShiftReduce {
                guard stack.count < ParserTables.stackDepth else { throw overflow(token) }
                let state =
                    action > ParserTables.maxShift
                    ? action + ParserTables.minReduce - ParserTables.minShiftReduce : action
                stack.append(Entry(state: state, major: major, minor: .token(token)))
                return
            } else if action == ParserTables.acceptAction {
                stack.removeLast()
                return
            } else {
                try drop(token)
                return
            }
        }
    }

    private mutating func drop(_ token: Token) throws(LighttpdConfigError) {
        guard token.kind != .endOfInput else {
            let hint = firstDropped.map { "; lighttpd first stumbled on \($0.shown) at \($0.location)" } ?? ""
            throw LighttpdConfigError(
                token.location,
                "parser failed: the configuration ends inside an unfinished "
                    + "statement or block\(hint)")
        }
        if token.kind != .eol {
            if firstDropped == nil { firstDropped = token }
            builder.warn(
                token.location,
                "lighttpd 1.4.69 ignores the unexpected \(token.shown) here "
                    + "(its parser drops tokens it cannot use)")
        }
    }

    private func overflow(_ token: Token) -> LighttpdConfigError {
        LighttpdConfigError(
            token.location,
            "nested too deeply for lighttpd's parser (a stack of "
                + "\(ParserTables.stackDepth) symbols)")
    }

    /// `yy_find_shift_action()`.
    private func shiftAction(state: Int, lookahead: UInt8) -> Int {
        if state > ParserTables.maxShift { return state }
        let index = ParserTables.shiftOffset[state] + Int(lookahead)
        guard index < ParserTables.action.count, ParserTables.lookahead[index] == lookahead else {
            return Int(ParserTables.defaultAction[state])
        }
        return Int(ParserTables.action[index])
    }

    /// `yy_reduce()`: run the rule's action, pop its right side, push its left side.
    private mutating func reduce(rule: Int, lookahead: Token) throws(LighttpdConfigError) -> Int {
        let count = ParserTables.ruleRightSideCount[rule]
        let values = stack.suffix(count).map(\.minor)
        let below = stack[stack.count - 1 - count].minor
        let result = try builder.reduce(rule: rule, values, below: below, lookahead: lookahead)
        stack.removeLast(count)
        let goto = ParserTables.ruleLeftSide[rule]
        let index = ParserTables.reduceOffset[stack[stack.count - 1].state] + Int(goto)
        let action = Int(ParserTables.action[index])
        stack.append(Entry(state: action, major: goto, minor: result))
        return action
    }
}
