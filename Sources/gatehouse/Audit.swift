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
        abstract: "Check an audit log's hash chain: find an edited, deleted, inserted or reordered line.")

    @Argument(help: "The audit log.") var file: String
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw UsageError("cannot read \(file)") }
        let result = AuditLog.verify(String(decoding: data, as: UTF8.self))
        switch result {
        case .success(let lines):
            print(json ? JSON.object(JSONObject(members: [("valid", .bool(true)), ("lines", .integer(Int64(lines)))]))
                .serialized : "\(file): \(lines) lines, the chain is intact")
        case .failure(let problem):
            let line: Int = switch problem {
            case .unchained(let line), .broken(let line): line
            }
            print(json ? JSON.object(JSONObject(members: [
                ("valid", .bool(false)), ("line", .integer(Int64(line))), ("message", .string(problem.description)),
            ])).serialized : "\(file): \(problem)")
            throw ExitCode(1)
        }
    }
}
