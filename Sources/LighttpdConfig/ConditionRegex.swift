internal import CPCRE2
import Synchronization

/// The regular expression of a `=~` / `!~` condition, compiled the way lighttpd 1.4.69 compiles it
/// (`data_config_pcre_compile()`: PCRE2, `PCRE2_UTF`, at most 9 capture groups) and matched the way it
/// matches (`pcre2_match()` > 0: a subject that is not valid UTF-8 never matches).
final class ConditionRegex: Sendable {
    let pattern: String
    private let code: Handle
    private let matchData: Mutex<Handle>

    private struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// The compiled pattern, or the message lighttpd stops with when it refuses the pattern at startup.
    static func compile(_ pattern: String) -> Result<ConditionRegex, CompileError> {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let bytes = Array(pattern.utf8) + [0]
        let compiled = bytes.withUnsafeBufferPointer {
            pcre2_compile_8($0.baseAddress, bytes.count - 1, PCRE2_UTF, &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            var buffer = [UInt8](repeating: 0, count: 256)
            let length = pcre2_get_error_message_8(errorCode, &buffer, buffer.count)
            let reason = String(decoding: buffer.prefix(max(0, Int(length))), as: UTF8.self)
            return .failure(CompileError("pcre2_compile: \(reason) at offset \(errorOffset), regex: \(pattern)"))
        }
        var captures: UInt32 = 0
        guard pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &captures) == 0, captures <= 9,
            let data = pcre2_match_data_create_from_pattern_8(compiled, nil)
        else {
            pcre2_code_free_8(compiled)
            return .failure(CompileError("Too many captures in regex, use (?:...) instead of (...): \(pattern)"))
        }
        _ = pcre2_jit_compile_8(compiled, PCRE2_JIT_COMPLETE)  // as lighttpd's server.pcre_jit default
        return .success(ConditionRegex(pattern: pattern, code: Handle(pointer: compiled), data: Handle(pointer: data)))
    }

    struct CompileError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    private init(pattern: String, code: Handle, data: Handle) {
        self.pattern = pattern
        self.code = code
        self.matchData = Mutex(data)
    }

    deinit {
        matchData.withLock { pcre2_match_data_free_8($0.pointer) }
        pcre2_code_free_8(code.pointer)
    }

    /// The groups of a match, 0 (the whole match) to the last one set, an unset one empty; nil: no match.
    func captures(_ subject: String) -> [String]? {
        let bytes = Array(subject.utf8) + [0]
        return bytes.withUnsafeBufferPointer { buffer in
            matchData.withLock { data -> [String]? in
                let count = pcre2_match_8(code.pointer, buffer.baseAddress, buffer.count - 1, 0, 0, data.pointer, nil)
                guard count > 0, let vector = pcre2_get_ovector_pointer_8(data.pointer) else { return nil }
                return (0..<Int(count)).map { group in
                    let start = vector[2 * group]
                    let end = vector[2 * group + 1]
                    guard start <= end, end <= bytes.count - 1 else { return "" }
                    return String(decoding: bytes[start..<end], as: UTF8.self)
                }
            }
        }
    }

    func matches(_ subject: String) -> Bool {
        let bytes = Array(subject.utf8) + [0]
        return bytes.withUnsafeBufferPointer { buffer in
            matchData.withLock { data in
                pcre2_match_8(code.pointer, buffer.baseAddress, buffer.count - 1, 0, 0, data.pointer, nil) > 0
            }
        }
    }
}
