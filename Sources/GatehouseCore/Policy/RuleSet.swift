/// One `"PATTERN" => "EXPRESSION"` rule of `gatehouse.require`.
public struct Rule: Sendable {
    public let pattern: PathPattern
    public let expression: Expression
    /// Position in the directive, which breaks ties between equally specific rules.
    public let index: Int
}

/// The compiled `gatehouse.require` list, sorted so the first match is the most specific.
public struct RuleSet: Sendable {
    public let rules: [Rule]

    /// Compiles `(pattern, expression)` pairs; errors name the pattern.
    public init(_ entries: [(pattern: String, expression: String)]) throws(PolicyError) {
        var rules = [Rule]()
        for (index, entry) in entries.enumerated() {
            let pattern = try PathPattern(entry.pattern)
            let expression = try PolicyParser.parse(entry.expression, captures: pattern.captureNames)
            rules.append(Rule(pattern: pattern, expression: expression, index: index))
        }
        // DESIGN.md §4: more literal characters before the first '{', then more segments,
        // then a method list over none; declaration order breaks the remaining ties.
        self.rules = rules.sorted { a, b in
            let x = a.pattern, y = b.pattern
            if x.literalPrefixLength != y.literalPrefixLength { return x.literalPrefixLength > y.literalPrefixLength }
            if x.segmentCount != y.segmentCount { return x.segmentCount > y.segmentCount }
            if (x.methods != nil) != (y.methods != nil) { return x.methods != nil }
            return a.index < b.index
        }
    }

    /// The most specific rule matching the request, with its path captures.
    public func select(method: UnsafeBufferPointer<UInt8>, path: UnsafeBufferPointer<UInt8>)
        -> (rule: Rule, captures: [(name: String, value: String)])? {
        for rule in rules where rule.pattern.matches(method: method) {
            if let captures = rule.pattern.match(path: path) { return (rule, captures) }
        }
        return nil
    }
}
