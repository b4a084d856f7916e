import FuzzDriver
import GatehouseCore

// Any bytes as a rule pattern and expression (split at the first newline): must never trap.
fuzz { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    let pattern = parts.count == 2 ? String(parts[0]) : "/api/{tenant}/"
    let expression = String(parts.last ?? "")
    if let rules = try? RuleSet([(pattern, expression)]) {
        var method = "GET"
        var path = "/api/acme/x"
        _ = method.withUTF8 { m in path.withUTF8 { p in rules.select(method: m, path: p, explain: true) } }
        _ = rules.unreachable
    }
    _ = try? Setting.compile(.roleInherits, .list([("a", .string(expression))]))
}
