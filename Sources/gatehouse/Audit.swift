import ArgumentParser
import Foundation
import GatehouseCore

/// `gatehouse audit verify FILE`: checks the hash chain of an audit log.
struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with gatehouse.audit-log files.", subcommands: [AuditVerify.self])
}

struct AuditVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check an audit log's hash chain: find an edited, deleted, inserted or reordered line.",
        discussion: """
            Give rotated files oldest first (audit.log.2 audit.log.1 audit.log): the chain runs on from \
            one file to the next. For a file whose predecessor is gone, --after takes that file's last chain.
            """)

    @Argument(help: "The audit log files, oldest first.") var files: [String]
    @Option(help: "The chain of the line before the first file's first line (default: none before it).")
    var after: String = AuditLog.genesis
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        var text = ""
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read \(path)") }
            text += String(decoding: data, as: UTF8.self)
            if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        }
        let file = files.joined(separator: " + ")
        let result = AuditLog.verify(text, after: after)
        switch result {
        case .success(let lines):
            print(
                json
                    ? JSON.object(JSONObject(members: [("valid", .bool(true)), ("lines", .integer(Int64(lines)))]))
                        .serialized : "\(file): \(lines) lines, the chain is intact")
        case .failure(let problem):
            let line: Int =
                switch problem {
                case .unchained(let line), .broken(let line): line
                }
            print(
                json
                    ? JSON.object(
                        JSONObject(members: [
                            ("valid", .bool(false)), ("line", .integer(Int64(line))),
                            ("message", .string(problem.description)),
                        ])
                    ).serialized : "\(file): \(problem)")
            throw ExitCode(1)
        }
    }
}
