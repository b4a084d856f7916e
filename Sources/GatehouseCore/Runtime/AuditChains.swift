/// The last `chain` written to each gatehouse.audit-log target, so each line chains to the one before
/// it (docs/configuration.md, gatehouse.audit-log).
final class AuditChains {
    private var last: [String: String] = [:]

    /// The line to write for `record` to `target`: chained to the target's previous line (a file's
    /// last line when this process has not written to it yet).
    func line(for record: String, to target: String) -> String {
        let previous = last[target] ?? (target.hasPrefix("|") ? AuditLog.genesis : AuditLog.lastChain(ofFile: target))
        let (line, chain) = AuditLog.chained(record, after: previous)
        last[target] = chain
        return line
    }
}
