/// The key files every setting of the process reads (gatehouse.jwks, gatehouse.hmac-secret-file),
/// read again when they change: a refused file keeps its last good keys in force.
final class KeyReloads {
    private(set) var sources: [KeySource] = []

    /// Remembers the key file of a setting that has one.
    func register(_ setting: Setting) {
        if let source = setting.value as? KeySource, !sources.contains(where: { $0 === source }) {
            sources.append(source)
        }
    }

    /// Reads again each file that changed, reporting each reload or refusal; true when one reloaded.
    func reloadChanged(metrics: Metrics, report: (Effects.LogLevel, String) -> Void) -> Bool {
        var reloaded = false
        for source in sources {
            switch source.reloadIfChanged() {
            case nil: continue
            case .success(let count)?:
                reloaded = true
                metrics.keyReloads += 1
                report(.notice, "gatehouse: reloaded \(source.path) (\(count) keys)")
                for skipped in source.keys.skipped { report(.warning, "gatehouse: \(skipped)") }
            case .failure(let error)?:
                metrics.keyLoadErrors += 1
                report(.error, "gatehouse: keeping the keys in force, \(source.path) was refused: \(error)")
            }
        }
        return reloaded
    }
}
