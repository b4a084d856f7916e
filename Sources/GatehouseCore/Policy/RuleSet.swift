/// One `"PATTERN" => "EXPRESSION"` rule of `gatehouse.require` (a class: a request's decision
/// refers to the rule it chose, it does not copy it).
public final class Rule: Sendable {
    public let pattern: PathPattern
    public let expression: Expression
    /// The expression as written (checked again against gatehouse.claims-schema).
    public let source: String
    /// Position in the directive, which breaks ties between equally specific rules.
    public let index: Int

    init(pattern: PathPattern, expression: Expression, source: String, index: Int) {
        self.pattern = pattern
        self.expression = expression
        self.source = source
        self.index = index
    }
}

/// The compiled `gatehouse.require` list: the rules sorted most specific first, and an index
/// of their path segments, so choosing a rule costs the same for ten rules or ten thousand
/// (up to `scanned` rules are tried one after the other: cheaper than walking the index).
public struct RuleSet: Sendable {
    /// Most specific first (docs/policy.md, "Choosing the rule"): more literal characters before the first '{', then
    /// more segments, then a method list over none; declaration order breaks the other ties.
    public let rules: [Rule]
    private let index: SegmentIndex
    /// The patterns with their literal letters in lower case, and their index, for a server that
    /// folds the case of paths (`server.force-lowercase-filenames`): `/ADMIN/x` is `/admin/x` there.
    private let foldedPatterns: [PathPattern]
    private let foldedIndex: SegmentIndex

    /// Compiles `(pattern, expression)` pairs; an error names the rule.
    public init(_ entries: [(pattern: String, expression: String)]) throws(PolicyError) {
        var rules = [Rule]()
        for (index, entry) in entries.enumerated() {
            do {
                let pattern = try PathPattern(entry.pattern)
                let expression = try PolicyParser.parse(entry.expression, captures: pattern.captureNames)
                rules.append(Rule(pattern: pattern, expression: expression, source: entry.expression, index: index))
            } catch {
                throw error.naming(pattern: entry.pattern, expression: entry.expression)
            }
        }
        self.rules = rules.sorted { a, b in
            let x = a.pattern
            let y = b.pattern
            if x.literalPrefixLength != y.literalPrefixLength { return x.literalPrefixLength > y.literalPrefixLength }
            if x.segmentCount != y.segmentCount { return x.segmentCount > y.segmentCount }
            if (x.methods != nil) != (y.methods != nil) { return x.methods != nil }
            return a.index < b.index
        }
        index = SegmentIndex(self.rules.map(\.pattern))
        var folded = [PathPattern]()
        for rule in self.rules {
            // (lower-casing letters keeps a valid pattern valid)
            guard let pattern = try? PathPattern(PathPattern.caseFolded(rule.pattern.description)) else {
                preconditionFailure("a compiled pattern stopped compiling once folded")
            }
            folded.append(pattern)
        }
        foldedPatterns = folded
        foldedIndex = SegmentIndex(folded)
    }

    /// Each rule whose expression does not type-check against `schema`, in the directive's order, with
    /// its first error (docs/policy.md, "Claim types").
    public func typeErrors(_ schema: ClaimsSchema) -> [PolicyError] {
        var errors = [PolicyError]()
        for rule in rules.sorted(by: { $0.index < $1.index }) {
            do {
                _ = try PolicyParser.parse(rule.source, captures: rule.pattern.captureNames, schema: schema)
            } catch {
                errors.append(error.naming(pattern: rule.pattern.description, expression: rule.source))
            }
        }
        return errors
    }

    public struct Selection {
        public let rule: Rule
        public let captures: [(name: String, value: String)]
        /// The other rules whose pattern matches too, most specific first (for explanations).
        public let outranked: [Rule]
    }

    /// The most specific rule matching the request, with its path captures. `foldingCase`: the
    /// path is in lower case already and the patterns' letters match in any case.
    public func select(
        method: UnsafeBufferPointer<UInt8>, path: UnsafeBufferPointer<UInt8>,
        explain: Bool = false, foldingCase: Bool = false
    ) -> Selection? {
        rules.count <= RuleSet.scanned
            ? select(method: method, path: path, explain: explain, foldingCase: foldingCase, among: rules.indices)
            : select(
                method: method, path: path, explain: explain, foldingCase: foldingCase,
                among: (foldingCase ? foldedIndex : index).candidates(path))
    }

    /// How many rules are tried in turn rather than looked up in the index.
    static let scanned = 8

    private func select(
        method: UnsafeBufferPointer<UInt8>, path: UnsafeBufferPointer<UInt8>, explain: Bool, foldingCase: Bool,
        among ranks: some Sequence<Int>
    ) -> Selection? {
        var chosen: (rank: Int, captures: [(name: String, value: String)])?
        var outranked = [Rule]()
        for rank in ranks {
            let rule = rules[rank]
            let pattern = foldingCase ? foldedPatterns[rank] : rule.pattern
            guard pattern.matches(method: method), let captures = pattern.match(path: path) else { continue }
            if chosen == nil {
                chosen = (rank, captures)
                if !explain { break }
            } else {
                outranked.append(rule)
            }
        }
        return chosen.map { Selection(rule: rules[$0.rank], captures: $0.captures, outranked: outranked) }
    }

    /// The rules no request can ever choose: an earlier-ranked rule has the same path shape and
    /// takes every method this one takes.
    public var unreachable: [(rule: Rule, hiddenBy: Rule)] {
        var result = [(rule: Rule, hiddenBy: Rule)]()
        for (position, rule) in rules.enumerated() {
            let hiding = rules[..<position].first { other in
                guard other.pattern.shape == rule.pattern.shape else { return false }
                guard let theirs = other.pattern.methods else { return true }
                guard let mine = rule.pattern.methods else { return false }
                return Set(theirs).isSuperset(of: mine)
            }
            if let hiding { result.append((rule, hiding)) }
        }
        return result
    }
}

/// A tree of path segments: a node per literal segment, a wildcard child for `{capture}`,
/// and at each node the ranks of the rules whose pattern ends there. Looking up a path walks
/// one branch per segment (two where a capture could also match) and yields every rule that
/// could match, in rank order; the caller confirms with `PathPattern.match`.
struct SegmentIndex: Sendable {
    private struct Node: Sendable {
        var literal: [[UInt8]: Int] = [:]
        var capture: Int?
        /// Rules matching the path that ends here or goes on (`/api` matches `/api` and `/api/…`).
        var exact: [Int] = []
        /// Rules matching only when the path goes on past this node (`/api/`).
        var prefix: [Int] = []
    }

    private var nodes = [Node()]

    init(_ patterns: [PathPattern]) {
        for (rank, pattern) in patterns.enumerated() {
            var node = 0
            for segment in pattern.segments {
                if let literal = segment {
                    if let next = nodes[node].literal[literal] {
                        node = next
                    } else {
                        nodes.append(Node())
                        nodes[node].literal[literal] = nodes.count - 1
                        node = nodes.count - 1
                    }
                } else if let next = nodes[node].capture {
                    node = next
                } else {
                    nodes.append(Node())
                    nodes[node].capture = nodes.count - 1
                    node = nodes.count - 1
                }
            }
            if pattern.isPrefix { nodes[node].prefix.append(rank) } else { nodes[node].exact.append(rank) }
        }
    }

    /// Ranks of the rules that may match `path`, ascending.
    func candidates(_ path: UnsafeBufferPointer<UInt8>) -> [Int] {
        guard path.first == UInt8(ascii: "/") else { return [] }
        let segments = path.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        var found = [Int]()
        var stack = [(node: 0, depth: 0)]
        while let (node, depth) = stack.popLast() {
            let current = nodes[node]
            if depth > 0 { found += current.exact }
            guard depth < segments.count else { continue }
            found += current.prefix
            let segment = segments[depth]
            if let next = current.literal[Array(segment)] { stack.append((next, depth + 1)) }
            if let next = current.capture, !segment.isEmpty { stack.append((next, depth + 1)) }
        }
        return found.sorted()
    }
}
