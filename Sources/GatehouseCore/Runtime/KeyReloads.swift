/// The key files every setting of the process reads (gatehouse.jwks, gatehouse.hmac-secret-file), and
/// the files of browser sign-in (gatehouse.session-key-file, gatehouse.provider-metadata), read again
/// when they change: a refused file keeps its last good contents in force.
final class KeyReloads {
    private(set) var sources: [KeySource] = []
    private var signInFiles: [any ReloadableFile] = []

    /// Remembers the key file, or the sign-in file, of a setting that has one.
    func register(_ setting: Setting) {
        if let source = setting.value as? KeySource, !sources.contains(where: { $0 === source }) {
            sources.append(source)
        }
        if let file = setting.value as? any ReloadableFile, !signInFiles.contains(where: { $0 === file }) {
            signInFiles.append(file)
        }
    }

    /// Reads again each file that changed, reporting each reload or refusal; true when a key file
    /// (one the verified-token cache depends on) reloaded.
    func reloadChanged(metrics: Metrics, report: (Effects.LogLevel, String) -> Void) -> Bool {
        for file in signInFiles {
            switch file.reloadDescribed() {
            case nil: continue
            case .success(let what)?:
                metrics.keyReloads += 1
                report(.notice, "gatehouse: reloaded \(file.path) (\(what))")
            case .failure(let error)?:
                metrics.keyLoadErrors += 1
                report(
                    .error,
                    "gatehouse: keeping the last good \(file.path) in force, the changed file was refused: \(error)")
            }
        }
        var reloaded = false
        for source in sources {
            switch source.reloadIfChanged() {
            case nil: continue
            case .success(let count)?:
                reloaded = true
                metrics.keyReloads += 1
                report(.notice, "gatehouse: reloaded \(source.path) (\(count) key\(count == 1 ? "" : "s"))")
                for skipped in source.keys.skipped { report(.warning, "gatehouse: \(skipped)") }
            case .failure(let error)?:
                metrics.keyLoadErrors += 1
                report(.error, "gatehouse: keeping the keys in force, \(source.path) was refused: \(error)")
            }
        }
        return reloaded
    }
}
