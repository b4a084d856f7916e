import ArgumentParser
import Foundation

/// `gatehouse`: answers offline what mod_gatehouse would decide.
/// Exit codes: 0 allow / valid, 1 deny / invalid, 2 usage or configuration error.
struct Gatehouse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatehouse",
        abstract: "Identity-aware authorization for lighttpd: verify tokens and test policies offline.",
        subcommands: [
            Verify.self, Check.self, Lint.self, TestCases.self, Audit.self, JWKS.self, Session.self, Bench.self,
            Dev.self,
        ]
    )
}

/// Failures that are the caller's: bad arguments, unreadable files, bad configuration.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

do {
    var command = try Gatehouse.parseAsRoot()
    try command.run()
} catch let exit as ExitCode {
    Gatehouse.exit(withError: exit)
} catch let failure as FetchFailure {
    FileHandle.standardError.write(Data("gatehouse: \(failure)\n".utf8))
    Gatehouse.exit(withError: ExitCode(1))
} catch let error as UsageError {
    FileHandle.standardError.write(Data("gatehouse: \(error)\n".utf8))
    Gatehouse.exit(withError: ExitCode(2))
} catch {
    if Gatehouse.exitCode(for: error) == .success { Gatehouse.exit(withError: error) }
    FileHandle.standardError.write(Data((Gatehouse.fullMessage(for: error) + "\n").utf8))
    Gatehouse.exit(withError: ExitCode(2))
}
