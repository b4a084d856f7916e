extension Gate {
    /// Under gatehouse.mode = "report-only", a refusal is logged and the request let through.
    static func mode(_ decision: inout Decision, configuration: Configuration) {
        guard configuration.reportOnly, decision.verdict.status != 0 else { return }
        decision.diagnostics.explanation?.append("report-only: let through instead of \(decision.verdict.status)")
        decision.diagnostics.wouldRefuse = decision.verdict.status
        decision.verdict.status = 0
        decision.verdict.wwwAuthenticate = nil
        decision.effects.responseHeaders = []
    }
}
