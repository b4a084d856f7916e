import GatehouseCore

/// The regular expression of a `=~` / `!~` condition or a url.rewrite, compiled the way lighttpd 1.4.69
/// compiles it (`data_config_pcre_compile()`: PCRE2, `PCRE2_UTF`, at most 9 capture groups) and matched
/// the way it matches (a subject that is not valid UTF-8 never matches), with GatehouseCore's wrapper.
enum ConditionRegex {
    struct CompileError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// The compiled pattern, or the message lighttpd stops with when it refuses the pattern at startup.
    static func compile(_ pattern: String) -> Result<GatehouseCore.Regex, CompileError> {
        let regex: GatehouseCore.Regex
        do {
            regex = try GatehouseCore.Regex(pattern, invalidUTF8Matches: false)
        } catch {
            return .failure(
                CompileError("pcre2_compile: \(error.message) at offset \(error.offset), regex: \(pattern)"))
        }
        guard regex.captureCount <= 9 else {
            return .failure(CompileError("Too many captures in regex, use (?:...) instead of (...): \(pattern)"))
        }
        return .success(regex)
    }
}
