extension Gate {
    /// The rule's expression for this caller and request: yes, no, or unknown (it needs a token the
    /// request does not validly carry).
    static func evaluate(
        _ rule: ChosenRule, _ caller: Caller, _ request: HTTPRequest, into decision: inout Decision
    ) -> Expression.Truth {
        let context = Expression.Context(identity: caller.identity, captures: rule.captures, request: request)
        return rule.expression.evaluate(context, trace: &decision.diagnostics.explanation)
    }
}
