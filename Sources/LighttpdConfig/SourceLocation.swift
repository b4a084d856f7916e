/// A place in a configuration source: a file, or the command of an `include_shell`, as lighttpd names it.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    /// 1-based.
    public let line: Int
    /// 1-based, counted in bytes of the line.
    public let column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the form editors and CI annotations understand.
    public var description: String { "\(file):\(line):\(column)" }
}

/// A configuration lighttpd would refuse, or one this reader cannot evaluate the way lighttpd would.
/// Also used for warnings: things lighttpd accepts silently but an administrator should hear about.
public struct LighttpdConfigError: Error, Sendable, CustomStringConvertible {
    public let location: SourceLocation
    /// What is wrong; where lighttpd has a message for it, the same words.
    public let message: String

    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}
