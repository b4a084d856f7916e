@testable import LighttpdConfig

/// The configuration as `lighttpd -p` prints it (`config_print()` in configfile.c), so the reading can be
/// compared with lighttpd's own, character for character.
enum ConfigPrinter {
    static func print(_ nodes: [ContextNode]) -> String {
        var out = ""
        context(0, in: nodes, depth: 0, into: &out)
        return out
    }

    private static func indent(_ depth: Int) -> String {
        String(repeating: " ", count: depth * 4)
    }

    private static func context(_ index: Int, in nodes: [ContextNode], depth: Int, into out: inout String) {
        let node = nodes[index]
        if index == 0 {
            out += "config {\n"
        } else {
            if !node.isElse { out += node.conditionText + " " }
            out += "{\n" + indent(depth + 1) + "# block \(index)\n"
        }
        let inner = depth + 1
        let width = node.entries.map(\.key.utf8.count).max() ?? 0
        for entry in node.entries {
            out += indent(inner) + entry.key + String(repeating: " ", count: width - entry.key.utf8.count) + " = "
            value(entry.value, depth: inner, into: &out)
            out += "\n"
        }
        out += "\n"
        for child in node.children where nodes[child].previous == nil {
            out += "\n" + indent(inner)
            context(child, in: nodes, depth: inner, into: &out)
            out += "\n"
        }
        out += indent(depth) + "}"
        if index != 0 { out += " # end of " + (node.isElse ? "else" : node.conditionText) }
        if let next = node.next {
            out += "\n" + indent(depth) + "else "
            context(next, in: nodes, depth: depth, into: &out)
        }
    }

    private static func value(_ value: Value, depth: Int, into out: inout String) {
        switch value {
        case .string(let text):
            out += "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .integer(let number):
            out += String(number)
        case .array(let elements):
            array(elements, depth: depth, into: &out)
        }
    }

    private static func array(_ elements: [Value.Element], depth: Int, into out: inout String) {
        let scalars = elements.allSatisfy { if case .array = $0.value { false } else { true } }
        if elements.count <= 5 && elements.first?.key == nil && scalars {
            // Short lists of scalars go on one line, keys (after the first element) left out as lighttpd does.
            out += "("
            for (offset, element) in elements.enumerated() {
                if offset > 0 { out += ", " }
                value(element.value, depth: depth + 1, into: &out)
            }
            out += ")"
            return
        }
        let width = elements.map { $0.key?.utf8.count ?? 0 }.max() ?? 0
        out += "(\n"
        for element in elements {
            out += indent(depth + 1)
            if let key = element.key {
                out += "\"" + key + "\"" + String(repeating: " ", count: width - key.utf8.count) + " => "
            }
            value(element.value, depth: depth + 1, into: &out)
            out += ",\n"
        }
        out += indent(depth) + ")"
    }
}

extension LighttpdConfig {
    /// The configuration as `lighttpd -p -f FILE` prints it.
    var printed: String { ConfigPrinter.print(nodes) }
}
