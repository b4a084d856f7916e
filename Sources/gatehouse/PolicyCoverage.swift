import GatehouseCore
import LighttpdConfig

/// `gatehouse test --coverage`: for every gatehouse.require of every context, whether a case chose
/// each rule, and whether each operand of an `and` / `or` was both true and false in some case.
final class PolicyCoverage {
    /// One recorder per gatehouse.require, by the place that gave it its value.
    private var recorders = [SourceLocation: Coverage]()

    func recorder(for location: SourceLocation) -> Coverage {
        if let known = recorders[location] { return known }
        let made = Coverage()
        recorders[location] = made
        return made
    }

    /// The report, and how many rules were never chosen and operands never both true and false
    /// (gatehouse.default unchosen is no gap: a policy may cover every path).
    func report(_ policy: LoadedConfig) throws -> (lines: [String], gaps: Int) {
        var lines = [String]()
        var gaps = 0
        var seen = Set<SourceLocation>()
        for context in policy.config.contexts {
            for entry in context.directives where entry.key == Directive.require.name {
                guard seen.insert(entry.location).inserted else { continue }
                let setting: Setting
                do {
                    setting = try policy.setting(
                        .require, entry.value, at: entry.location, inCondition: context.parent != nil)
                } catch {
                    throw UsageError("\(entry.location): \(error)")
                }
                guard let rules = setting.value as? RuleSet else { continue }
                let coverage = recorders[entry.location] ?? Coverage()
                lines.append("gatehouse.require at \(entry.location) (\(context.condition ?? "global context")):")
                for rule in rules.rules {
                    let pattern = rule.pattern.description
                    let chosen = coverage.chosen.contains(pattern)
                    if !chosen { gaps += 1 }
                    let mark = chosen ? "chosen    " : "NOT CHOSEN"
                    lines.append("  \(mark) \"\(pattern)\" => \"\(rule.expression)\"")
                    for branch in rule.expression.branches {
                        let took = coverage.truths(of: branch, inRule: pattern)
                        let missing = [(Expression.Truth.yes, "true"), (.no, "false")].filter { !took.contains($0.0) }
                        if !missing.isEmpty { gaps += 1 }
                        let verdict =
                            missing.isEmpty ? "true and false" : "NEVER " + missing.map(\.1).joined(separator: " OR ")
                        let padding = String(repeating: " ", count: 20 - verdict.count)
                        lines.append("      " + verdict + padding + "\(branch)")
                    }
                }
                let fallback = coverage.chosen.contains("gatehouse.default")
                lines.append("  \(fallback ? "chosen    " : "not chosen") gatehouse.default (no rule matches)")
            }
        }
        return (lines, gaps)
    }
}
