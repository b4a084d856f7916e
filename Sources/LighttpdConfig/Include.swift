import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reading sources: the main file, `include "…"` and `include_shell "…"` (configfile.c's
/// `config_parse_file()` and `config_parse_cmd()`).
extension ConfigBuilder {
    /// lighttpd has no limit and recurses until it runs out of stack or descriptors; a loop is an error here.
    static let maximumIncludeDepth = 32

    /// Parses one source into the current context, with a parser of its own (as lighttpd does: an
    /// included file must be complete by itself).
    func parse(_ bytes: [UInt8], source: String) throws(LighttpdConfigError) {
        var lexer = Lexer(bytes: bytes, source: source)
        var parser = LemonParser(builder: self)
        defer { warn(lexer.warnings) }
        while true {
            let token = try lexer.next()
            try parser.feed(token)
            if token.kind == .endOfInput { return }
        }
    }

    func parseFile(_ path: String, at location: SourceLocation?) throws(LighttpdConfigError) {
        switch Self.contents(of: path) {
        case .success(let bytes):
            try parse(bytes, source: path)
        case .failure(let reason):
            throw LighttpdConfigError(
                location ?? SourceLocation(file: path, line: 1, column: 1),
                "opening configfile \(path) failed: \(reason.message)")
        }
    }

    /// A file's bytes, or the system's reason (lighttpd's limit: 32 MB).
    private static func contents(of path: String) -> Result<[UInt8], ReadFailure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(ReadFailure(String(cString: strerror(errno)))) }
        defer { close(fd) }
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ReadFailure(String(cString: strerror(errno))))
            }
            if count == 0 { return .success(bytes) }
            bytes += buffer.prefix(count)
            if bytes.count > 32 * 1024 * 1024 { return .failure(ReadFailure("larger than 32 MB")) }
        }
    }

    private struct ReadFailure: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// `include "name"`: a relative name (not starting with `/`, `./` or `../`) is taken relative to the
    /// directory of the main configuration file, whichever file includes it; then expanded as a glob
    /// (with braces). A pattern that matches nothing is fine; a plain name that does not exist is not.
    func include(_ name: String, at location: SourceLocation) throws(LighttpdConfigError) {
        let relativeToWorkingDirectory = ["/", "\\", "./", ".\\", "../", "..\\"].contains { name.hasPrefix($0) }
        let pattern = baseDirectory.isEmpty || relativeToWorkingDirectory ? name : baseDirectory + name
        includeDepth += 1
        defer { includeDepth -= 1 }
        guard includeDepth <= Self.maximumIncludeDepth else {
            throw LighttpdConfigError(
                location,
                "include \"\(name)\": includes nested more than "
                    + "\(Self.maximumIncludeDepth) deep (a file that includes itself?)")
        }
        var matches = glob_t()
        defer { globfree(&matches) }
        switch glob(pattern, Int32(GLOB_BRACE), nil, &matches) {
        case 0:
            let paths = (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
            for path in paths { try parseFile(path, at: location) }
        case GLOB_NOMATCH:
            if !pattern.contains(where: { "*?[]{}".contains($0) }) {
                throw LighttpdConfigError(location, "include file not found: \(pattern)")
            }
        default:
            throw LighttpdConfigError(location, "glob() \(pattern) failed")
        }
    }

    /// `include_shell "command"`: refused unless allowed; otherwise run as lighttpd runs it (`$SHELL -c`,
    /// or /bin/sh, in the main file's directory) and its output parsed, named after the command.
    func includeShell(_ command: String, at location: SourceLocation) throws(LighttpdConfigError) {
        guard allowShell else {
            throw LighttpdConfigError(
                location,
                "include_shell \"\(command)\" refused: running commands named in "
                    + "the configuration is disabled (allow it explicitly to run it)")
        }
        var shell = environment["SHELL"] ?? "/bin/sh"
        if shell == "/usr/bin/false" || shell == "/bin/false" { shell = "/bin/sh" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: shell)
        process.arguments = ["-c", command]
        process.environment = environment
        if !baseDirectory.isEmpty { process.currentDirectoryURL = URL(fileURLWithPath: baseDirectory) }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let bytes: [UInt8]
        let messages = Collected()
        do {
            try process.run()
            // stderr is drained on the side, so a chatty command cannot block on a full pipe.
            let drained = DispatchGroup()
            DispatchQueue.global().async(group: drained) {
                messages.data = errors.fileHandleForReading.readDataToEndOfFile()
            }
            bytes = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
            drained.wait()
            process.waitUntilExit()
        } catch {
            throw LighttpdConfigError(location, "fork/exec(\(command)): \(error.localizedDescription)")
        }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let text = String(decoding: messages.data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let detail = text.isEmpty ? "" : " (\(text))"
            throw LighttpdConfigError(
                location,
                "command \"\(command)\" exited non-zero: "
                    + "\(process.terminationStatus)\(detail)")
        }
        try parse(bytes, source: command)
    }
}

/// What a command wrote to stderr, filled in by the thread that drains it.
private final class Collected: @unchecked Sendable {
    var data = Data()
}
