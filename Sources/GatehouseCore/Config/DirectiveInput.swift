/// What a descriptor's compile function is given: the directive's name and value, and where the
/// warnings to show once at startup go.
struct DirectiveInput {
    let name: String
    let value: ConfigValue
    /// The CLI only: a key or secret file that cannot be opened is a warning, and its source has no keys.
    let offline: Bool
    var warnings: [String] = []

    /// The error for a value that is not the shape expected.
    func fail(_ expected: String) -> ConfigError {
        ConfigError("\(name): expected \(expected), got \(value)")
    }

    /// A key file's source. Said loudly: a file refused on a graceful restart, whose last good keys
    /// stay in force; offline, a file that cannot be opened.
    mutating func keySource(path: String, isSecret: Bool) throws(ConfigError) -> KeySource {
        let source: KeySource
        do {
            source = try KeySource(path: path, isSecret: isSecret, offline: offline)
        } catch {
            throw ConfigError("\(name): \(error)")
        }
        warnings += source.keys.skipped.map { "\(name): \($0)" }
        if let why = source.refusal {
            warnings.append(
                "\(name): \(path) was refused (\(why)); still serving the last good keys of this file, "
                    + "loaded at Unix time \(source.loaded): fix the file, it is read again when it changes")
        }
        if let why = source.unreadable {
            warnings.append("\(name): cannot read \(path): \(why) (tokens cannot be verified)")
        }
        return source
    }

    /// A string, or a list of strings without keys; never empty, no empty element.
    func strings(orFail error: ConfigError) throws(ConfigError) -> [String] {
        switch value {
        case .string(let text) where !text.isEmpty:
            return [text]
        case .list(let entries) where !entries.isEmpty:
            var result = [String]()
            for entry in entries {
                guard entry.key == nil, case .string(let text) = entry.value, !text.isEmpty else { throw error }
                result.append(text)
            }
            return result
        default:
            throw error
        }
    }

    /// A non-empty string that can stand in an HTTP quoted-string: no quote, backslash or control character.
    func quotable(orFail error: ConfigError) throws(ConfigError) -> String {
        guard case .string(let text) = value, !text.isEmpty,
            text.utf8.allSatisfy({
                $0 >= 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\")
            })
        else { throw error }
        return text
    }

    /// A claim name, or a dot path into nested claims.
    func claimPath() throws(ConfigError) -> ClaimPath {
        guard case .string(let text) = value, let path = ClaimPath(text) else {
            throw fail("a claim name or a dot path into nested claims (\"realm_access.roles\")")
        }
        return path
    }

    /// A whole number in `range`. lighttpd's parser reads only digits, into a 32-bit int: a negative
    /// integer is a number over 2147483647 that wrapped around (`2147483648` arrives as -2147483648).
    func wholeNumber(in range: ClosedRange<Int64>, expected: String) throws(ConfigError) -> Int64 {
        let error = ConfigError("\(name): expected \(expected), got \(value)")
        switch value {
        case .integer(let number) where number < 0:
            throw ConfigError(
                "\(name): \(number) is out of range: lighttpd keeps numbers in 32 bits, so one over 2147483647 "
                    + "wraps around to a negative number (expected \(expected))")
        case .integer(let number) where range.contains(number): return number
        case .string(let text):  // lighttpd gives numbers from env.* variables as strings
            guard let number = Int64(text), range.contains(number) else { throw error }
            return number
        default: throw error
        }
    }
}
