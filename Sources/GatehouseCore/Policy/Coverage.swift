/// What policy tests exercised (`gatehouse test --coverage`): which rules were chosen and, for each
/// operand of an `and` or `or`, which truth values it took. Only the CLI makes one; the module
/// decides with none, where a recorder costs one nil check per `and` / `or` evaluated.
/// Used by one thread at a time (the CLI's test loop).
public final class Coverage: @unchecked Sendable {
    /// Rule patterns chosen, and "gatehouse.default" when no rule matched.
    public private(set) var chosen = Set<String>()
    private var truths = [String: Set<Expression.Truth>]()
    /// The rule being evaluated: its operands are recorded under it.
    private var rule = ""

    public init() {}

    func choose(_ rule: String) {
        self.rule = rule
        chosen.insert(rule)
    }

    func record(_ operand: Expression, _ truth: Expression.Truth) {
        truths["\(rule)\u{0}\(operand)", default: []].insert(truth)
    }

    /// The truth values `operand` (an `and` / `or` operand of the rule `pattern`) took.
    public func truths(of operand: Expression, inRule pattern: String) -> Set<Expression.Truth> {
        truths["\(pattern)\u{0}\(operand)"] ?? []
    }
}

extension Expression {
    /// The operands of every `and` and `or` in the expression, outermost first, left before right.
    public var branches: [Expression] {
        switch self {
        case .and(let left, let right), .or(let left, let right):
            [left, right] + left.branches + right.branches
        case .not(let inner): inner.branches
        default: []
        }
    }
}
