#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Reads small configuration files (keys, secrets) and looks at folders, without Foundation.
enum FileBytes {
    struct ReadError: Error, CustomStringConvertible {
        let description: String
    }

    /// Whether `path` names an existing folder (following symbolic links).
    static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether anything exists at `path` (following symbolic links).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func read(path: String, limit: Int) throws(ReadError) -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw ReadError(description: String(cString: strerror(errno))) }
        defer { fclose(file) }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count == 0 { break }
            bytes += chunk[0..<count]
            if bytes.count > limit { throw ReadError(description: "larger than \(limit) bytes") }
        }
        if ferror(file) != 0 { throw ReadError(description: "read error") }
        return bytes
    }
}
