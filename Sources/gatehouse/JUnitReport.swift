/// `gatehouse test --junit FILE`: the cases as JUnit XML, the format CI systems read test results in
/// (one testsuite, one testcase per case run, a failure element with the problems of a failed one,
/// a skipped element with the reason a case was not sent to a server).
struct JUnitReport {
    let suite: String
    private var cases = [(name: String, problems: [String], skipped: String?)]()

    init(suite: String) { self.suite = suite }

    mutating func add(name: String, problems: [String]) { cases.append((name, problems, nil)) }

    mutating func add(name: String, skipped: String) { cases.append((name, [], skipped)) }

    var xml: String {
        let failures = cases.filter { !$0.problems.isEmpty }.count
        let skipped = cases.filter { $0.skipped != nil }.count
        var lines = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<testsuites tests=\"\(cases.count)\" failures=\"\(failures)\">",
            "  <testsuite name=\"\(escape(suite))\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\""
                + " skipped=\"\(skipped)\">",
        ]
        for (name, problems, skip) in cases {
            let opening = "    <testcase classname=\"\(escape(suite))\" name=\"\(escape(name))\""
            if let skip {
                lines += [opening + ">", "      <skipped message=\"\(escape(skip))\"/>", "    </testcase>"]
            } else if problems.isEmpty {
                lines.append(opening + "/>")
            } else {
                let text = escape(problems.joined(separator: "; "))
                lines += [opening + ">", "      <failure message=\"\(text)\">\(text)</failure>", "    </testcase>"]
            }
        }
        lines += ["  </testsuite>", "</testsuites>", ""]
        return lines.joined(separator: "\n")
    }

    /// XML character data and attribute values; control characters XML 1.0 cannot carry become U+FFFD.
    private func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out += "&#\(scalar.value);"
            case _ where scalar.value < 0x20: out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
