internal import CPCRE2
import Synchronization

/// A PCRE2 regular expression (the library lighttpd's own conditions use), compiled once when
/// the configuration loads: the one PCRE2 wrapper, for policy expressions (`=~`) and for the CLI's
/// reading of lighttpd's `=~` conditions and url.rewrite. Matching searches anywhere in the subject:
/// anchor with ^ and $.
public final class Regex: Sendable, CustomStringConvertible {
    public let description: String
    /// The pattern's capture groups.
    public let captureCount: Int
    private let code: Code
    /// Match data reused across matches, under a lock (lighttpd calls from one thread).
    private let matchData: Mutex<Code>

    private struct Code: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    public struct CompileError: Error {
        public let message: String
        /// Byte offset in the pattern where PCRE2 stopped.
        public let offset: Int
    }

    /// `invalidUTF8Matches`: a subject that is not valid UTF-8 is matched as far as it is (PCRE2's
    /// MATCH_INVALID_UTF, for policies); false: it never matches, as lighttpd 1.4.69 compiles its
    /// conditions (`data_config_pcre_compile()`: PCRE2_UTF alone).
    public init(_ pattern: String, invalidUTF8Matches: Bool = true) throws(CompileError) {
        description = pattern
        var errorCode: Int32 = 0
        var errorOffset = 0
        var bytes = Array(pattern.utf8)
        if bytes.isEmpty { bytes = [0] }  // pcre2 wants a non-null pointer; length 0 below
        let compiled = bytes.withUnsafeBufferPointer {
            pcre2_compile_8(
                $0.baseAddress, pattern.utf8.count, PCRE2_UTF | (invalidUTF8Matches ? PCRE2_MATCH_INVALID_UTF : 0),
                &errorCode, &errorOffset, nil)
        }
        guard let compiled else {
            var buffer = [UInt8](repeating: 0, count: 256)
            let length = pcre2_get_error_message_8(errorCode, &buffer, buffer.count)
            throw CompileError(
                message: String(decoding: buffer.prefix(max(0, Int(length))), as: UTF8.self),
                offset: errorOffset)
        }
        var groups: UInt32 = 0
        _ = pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &groups)
        captureCount = Int(groups)
        _ = pcre2_jit_compile_8(compiled, PCRE2_JIT_COMPLETE)  // interpreted when JIT is unavailable
        guard let data = pcre2_match_data_create_from_pattern_8(compiled, nil) else {
            pcre2_code_free_8(compiled)
            throw CompileError(message: "out of memory", offset: 0)
        }
        code = Code(pointer: compiled)
        matchData = Mutex(Code(pointer: data))
    }

    deinit {
        matchData.withLock { pcre2_match_data_free_8($0.pointer) }
        pcre2_code_free_8(code.pointer)
    }

    /// The groups of a match, 0 (the whole match) to the last one set, an unset one empty; nil: no match.
    public func captures(_ subject: String) -> [String]? {
        var subject = subject
        return subject.withUTF8 { bytes in
            matchData.withLock { data -> [String]? in
                let count = pcre2_match_8(
                    code.pointer, bytes.baseAddress ?? UnsafePointer(bitPattern: 1), bytes.count, 0, 0, data.pointer,
                    nil)
                guard count > 0, let vector = pcre2_get_ovector_pointer_8(data.pointer) else { return nil }
                return (0..<Int(count)).map { group in
                    let start = vector[2 * group]
                    let end = vector[2 * group + 1]
                    guard start <= end, end <= bytes.count else { return "" }
                    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                }
            }
        }
    }

    public func matches(_ subject: String) -> Bool {
        var subject = subject
        return subject.withUTF8 { bytes in
            matchData.withLock { data in
                pcre2_match_8(
                    code.pointer, bytes.baseAddress ?? UnsafePointer(bitPattern: 1), bytes.count, 0, 0,
                    data.pointer, nil) >= 0
            }
        }
    }
}
