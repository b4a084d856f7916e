import ArgumentParser
import Foundation
import GatehouseCore
import LighttpdConfig

/// `gatehouse lint`: every gatehouse.* directive of every condition, checked.
struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every gatehouse.* directive in every condition of a lighttpd.conf.")

    @Option(help: "The lighttpd.conf to read.") var config: String
    @Flag(help: "Run include_shell commands of the configuration.") var allowShell = false
    @Flag(help: "Machine-readable output.") var json = false
    @Flag(help: "Key, secret and audit files that cannot be read are warnings (CI, a laptop).") var offline = false
    @Option(help: "NAME=VALUE: replaces the configuration's var.NAME (repeatable).") var define: [String] = []

    struct Finding {
        let location: SourceLocation
        let severity: String
        let message: String
    }

    func run() throws {
        let policy = try LoadedConfig(path: config, allowShell: allowShell, defines: define, offline: offline)
        // What lighttpd accepts but reads differently from how it looks (dropped tokens, wrapped numbers).
        var findings = policy.config.warnings.map {
            Finding(location: $0.location, severity: "warning", message: $0.message)
        }
        var compiled = [[(Directive, Setting)]]()  // per context
        for context in policy.config.contexts {
            var settings = [(Directive, Setting)]()
            let conditions = dependedOn(context, in: policy.config)
            // lighttpd finds keys in any letter case: Gatehouse.Require is gatehouse.require to it.
            for entry in context.directives where entry.key.lowercased().hasPrefix("gatehouse.") {
                if let problem = Directive.problem(withKey: entry.key) {
                    findings.append(Finding(location: entry.location, severity: "error", message: problem))
                    continue
                }
                guard let directive = Directive.named(entry.key) else { continue }
                if let warning = conditions.lazy.compactMap({
                    ClientChosenCondition.warning(directive, condition: $0)
                }).first {
                    findings.append(Finding(location: entry.location, severity: "warning", message: warning))
                }
                do {
                    let setting = try policy.setting(
                        directive, entry.value, at: entry.location, inCondition: context.parent != nil)
                    for warning in setting.warnings {
                        findings.append(Finding(location: entry.location, severity: "warning", message: warning))
                    }
                    if let rules = setting.value as? RuleSet {
                        for (rule, hiddenBy) in rules.unreachable {
                            findings.append(
                                Finding(
                                    location: entry.location, severity: "warning",
                                    message:
                                        "rule \"\(rule.pattern)\" => \"\(rule.expression)\" can never be chosen: "
                                        + "\"\(hiddenBy.pattern)\" => \"\(hiddenBy.expression)\" takes all its requests"
                                ))
                        }
                    }
                    settings.append((directive, setting))
                } catch {
                    findings.append(Finding(location: entry.location, severity: "error", message: error.description))
                }
            }
            compiled.append(settings)
        }
        // Each condition with what encloses it must fit together (what lighttpd -tt checks).
        for (index, context) in policy.config.contexts.enumerated() where !compiled[index].isEmpty {
            var chain = [index]
            while let parent = policy.config.contexts[chain[0]].parent { chain.insert(parent, at: 0) }
            if chain.first != 0 { chain.insert(0, at: 0) }
            var configuration = Configuration()
            for member in chain { for (directive, setting) in compiled[member] { configuration[directive] = setting } }
            for problem in configuration.problems() {
                findings.append(
                    Finding(
                        location: context.location, severity: "error",
                        message: "in \(context.condition ?? "the global context"): \(problem)"))
            }
        }
        report(findings)
        if findings.contains(where: { $0.severity == "error" }) { throw ExitCode(1) }
    }

    /// The conditions a context's settings depend on, in the order lighttpd -tt looks at them: its
    /// own, the earlier branches of its else chain (which must not hold), then its parent's.
    private func dependedOn(_ context: LighttpdConfig.Context, in config: LighttpdConfig) -> [String] {
        var conditions = [String]()
        var block: LighttpdConfig.Context? = context
        while let current = block, current.index != 0 {
            var branch: LighttpdConfig.Context? = current
            while let each = branch {
                if !each.isElse, let condition = each.condition { conditions.append(condition) }
                branch = each.previous.map { config.contexts[$0] }
            }
            block = current.parent.map { config.contexts[$0] }
        }
        return conditions
    }

    private func report(_ findings: [Finding]) {
        if json {
            print(
                JSON.array(
                    findings.map { finding in
                        .object(
                            JSONObject(members: [
                                ("file", .string(finding.location.file)),
                                ("line", .integer(Int64(finding.location.line))),
                                ("column", .integer(Int64(finding.location.column))),
                                ("severity", .string(finding.severity)),
                                ("message", .string(finding.message)),
                            ]))
                    }
                ).serialized)
            return
        }
        for finding in findings { print("\(finding.location): \(finding.severity): \(finding.message)") }
        let errors = findings.filter { $0.severity == "error" }.count
        print(
            "\(errors) error\(errors == 1 ? "" : "s"), \(findings.count - errors) warning"
                + (findings.count - errors == 1 ? "" : "s"))
    }
}
