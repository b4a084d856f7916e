/// The keys of gatehouse.session-key-file: one per line, base64 (standard or URL alphabet) of
/// 32 random bytes (`gatehouse session new-key`). The first seals; every one opens, so a new key
/// is added at the top and the old one removed a session lifetime later (key rotation).
public struct SessionKeys: Sendable {
    public static let keyLength = 32
    /// The most keys a file may hold.
    public static let maximumCount = 16

    public let keys: [[UInt8]]

    public init(keys: [[UInt8]]) {
        precondition(!keys.isEmpty && keys.allSatisfy { $0.count == SessionKeys.keyLength })
        self.keys = keys
    }

    /// Reads a key file; the error names the line and what was expected.
    public static func load(path: String) throws(ConfigError) -> SessionKeys {
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path: path, limit: 4096)
        } catch {
            throw ConfigError("cannot read \(path): \(error)")
        }
        return try parse(bytes, path: path)
    }

    static func parse(_ bytes: [UInt8], path: String) throws(ConfigError) -> SessionKeys {
        var keys = [[UInt8]]()
        for (number, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            var text = Array(line)
            while let last = text.last, last == 0x0D || last == 0x20 || last == 0x09 { text.removeLast() }
            if text.isEmpty || text.first == UInt8(ascii: "#") { continue }
            guard let key = decode(text), key.count == keyLength else {
                throw ConfigError(
                    "\(path) line \(number + 1): expected the base64 of \(keyLength) random bytes "
                        + "(gatehouse session new-key writes one)")
            }
            keys.append(key)
        }
        guard !keys.isEmpty else {
            throw ConfigError("\(path): expected at least one key (gatehouse session new-key writes one)")
        }
        guard keys.count <= maximumCount else {
            throw ConfigError("\(path): \(keys.count) keys, expected at most \(maximumCount)")
        }
        return SessionKeys(keys: keys)
    }

    /// Standard or URL-safe base64, padded or not.
    static func decode(_ text: [UInt8]) -> [UInt8]? {
        var url = text.map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "+"): UInt8(ascii: "-")
            case UInt8(ascii: "/"): UInt8(ascii: "_")
            default: byte
            }
        }
        while url.last == UInt8(ascii: "=") { url.removeLast() }
        return url.withUnsafeBufferPointer { Base64URL.decode($0) }
    }
}
