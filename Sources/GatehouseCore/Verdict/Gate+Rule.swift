extension Gate {
    /// The rule chosen for a request: the most specific match, or gatehouse.default.
    struct ChosenRule {
        let expression: Expression
        /// nil: gatehouse.default.
        let rule: Rule?
        let captures: [(name: String, value: String)]
    }

    /// Chooses the most specific rule for `request`, or gatehouse.default when none matches.
    static func chooseRule(
        _ request: HTTPRequest, rules: RuleSet, configuration: Configuration, into decision: inout Decision
    ) -> ChosenRule {
        let expression: Expression
        var selected: Rule?
        var captures = [(name: String, value: String)]()
        var method = request.method
        let path = request.lowercasePaths ? lowerCased(request.pathBytes) : request.pathBytes
        let explain = decision.diagnostics.explanation != nil
        if let match = method.withUTF8({ m in
            path.withUnsafeBufferPointer { p in
                rules.select(method: m, path: p, explain: explain, foldingCase: request.lowercasePaths)
            }
        }) {
            selected = match.rule
            captures = match.captures
            expression = match.rule.expression
            decision.verdict.rule = match.rule.pattern.description
            decision.diagnostics.explanation?.append(
                "rule \"\(match.rule.pattern)\" => \"\(expression)\" is the most specific match"
                    + (match.outranked.isEmpty
                        ? ""
                        : " (over "
                            + match.outranked.map { "\"\($0.pattern)\"" }
                            .joined(separator: ", ") + ")")
                    + (captures.isEmpty
                        ? ""
                        : "; "
                            + captures.map { "path.\($0.name) = '\($0.value)'" }
                            .joined(separator: ", ")))
        } else {
            expression = configuration.defaultExpression
            decision.diagnostics.explanation?.append(
                "no rule matches \(request.method) \(request.path); gatehouse.default is \"\(expression)\"")
        }
        return ChosenRule(expression: expression, rule: selected, captures: captures)
    }

    /// The path as a server that folds case serves it: ASCII letters in lower case.
    static func lowerCased(_ path: [UInt8]) -> [UInt8] {
        path.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
    }
}
