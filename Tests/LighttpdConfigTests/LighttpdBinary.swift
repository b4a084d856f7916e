import Foundation

/// The installed lighttpd, to check the reader against: `lighttpd -p` (the parsed configuration) and
/// `lighttpd -tt` (whether it starts). Tests that need it are skipped where it is not installed.
enum LighttpdBinary {
    static let path = "/usr/sbin/lighttpd"
    static let modules = "/usr/lib/lighttpd"
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }

    struct Run {
        let status: Int32
        let output: String
        let errors: String
    }

    static func run(
        _ arguments: [String], environment: [String: String] = testEnvironment,
        in directory: String? = nil
    ) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-m", modules] + arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let errorText = Drained(errors)
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            errors: errorText.text)
    }

    /// `lighttpd -p -f file`, without the lines for var.CWD and var.PID (which differ between processes).
    static func printed(_ file: String) throws -> Run {
        let run = try run(["-p", "-f", file])
        return Run(status: run.status, output: withoutProcessVariables(run.output), errors: run.errors)
    }

    static func withoutProcessVariables(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("    var.CWD ") && !$0.hasPrefix("    var.PID ") }
            .joined(separator: "\n")
            .trimmingCharacters(in: .newlines)
    }
}

/// Reads a pipe to its end on another thread.
private final class Drained: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ pipe: Pipe) {
        DispatchQueue.global().async {
            self.data = pipe.fileHandleForReading.readDataToEndOfFile()
            self.done.signal()
        }
    }

    var text: String {
        done.wait()
        done.signal()
        return String(decoding: data, as: UTF8.self)
    }
}
