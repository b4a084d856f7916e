#if canImport(Glibc)
    import Glibc
#endif

/// Reads a JSON text (RFC 8259) from hostile bytes straight into `JSON` values: no intermediate
/// tree. Strict: the text is one object or array with only whitespace around it; strings are valid
/// UTF-8 without control characters, with valid escapes and surrogate pairs, and no NUL character
/// (not even escaped); numbers have no leading zeros and fit (an integer in 64 bits, a real
/// finitely); an object never repeats a member name (compared byte for byte after unescaping);
/// nesting stops at `JSON.maximumDepth`. The recursion is bounded by that depth, and what it
/// allocates by the size of the text.
struct JSONReader: ~Copyable {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    /// Member names the top-level object keeps (nil: all); the others are read and checked, not kept.
    private let keeping: ((String) -> Bool)?

    private init(_ bytes: UnsafeBufferPointer<UInt8>, keeping: ((String) -> Bool)?) {
        self.bytes = bytes
        self.keeping = keeping
    }

    /// The value of the text, or why it is not JSON. `keeping` selects the top-level object's
    /// members to keep (every member is still checked, duplicates included).
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, keeping: ((String) -> Bool)? = nil) -> Result<JSON, JSONError>
    {
        var reader = JSONReader(bytes, keeping: keeping)
        do throws(JSONError) {
            reader.skipWhitespace()
            guard let first = reader.peek(), first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
                throw reader.error("'[' or '{' expected")
            }
            let value = try reader.value(depth: 0)
            reader.skipWhitespace()
            guard reader.position == bytes.count else { throw reader.error("end of text expected") }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    private func error(_ what: String) -> JSONError {
        JSONError("\(what) at byte \(position)")
    }

    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func expect(_ literal: StaticString) throws(JSONError) {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - position >= count,
            memcmp(bytes.baseAddress! + position, literal.utf8Start, count) == 0
        else { throw error("invalid literal") }
        position += count
    }

    private func checkDepth(_ depth: Int) throws(JSONError) {
        guard depth <= JSON.maximumDepth else { throw error("nested deeper than \(JSON.maximumDepth) levels") }
    }

    private mutating func value(depth: Int) throws(JSONError) -> JSON {
        try checkDepth(depth)
        guard let byte = peek() else { throw error("unexpected end of text") }
        switch byte {
        case UInt8(ascii: "{"): return .object(try object(depth: depth))
        case UInt8(ascii: "["): return .array(try array(depth: depth))
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character")
        }
    }

    private mutating func object(depth: Int) throws(JSONError) -> JSONObject {
        position += 1  // {
        var members = [(key: String, value: JSON)]()
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return JSONObject(members: members)
        }
        members.reserveCapacity(8)
        let selective = depth == 0 ? keeping : nil
        var skipped = [String]()
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw error("string expected as a member name") }
            let name = try string()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw error("':' expected") }
            position += 1
            skipWhitespace()
            if let selective, !selective(name) {
                try skip(depth: depth + 1)
                skipped.append(name)
            } else {
                members.append((name, try value(depth: depth + 1)))
            }
            skipWhitespace()
            guard let next = peek() else { throw error("unexpected end of text") }
            position += 1
            if next == UInt8(ascii: "}") { break }
            guard next == UInt8(ascii: ",") else { throw error("',' or '}' expected") }
        }
        let repeated =
            skipped.isEmpty
            ? JSONReader.repeats(members.lazy.map(\.key)) : JSONReader.repeats(members.map(\.key) + skipped)
        if repeated { throw error("a member name is repeated") }
        return JSONObject(members: members)
    }

    /// Whether two names are the same bytes: compared pairwise while few, sorted beyond.
    private static func repeats<Names: RandomAccessCollection<String>>(_ names: Names) -> Bool
    where Names.Index == Int {
        if names.count <= 16 {
            for later in names.indices.dropFirst() {
                let candidate = names[later]
                for earlier in names.startIndex..<later where names[earlier].sameBytes(candidate) { return true }
            }
            return false
        }
        let sorted = names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return zip(sorted, sorted.dropFirst()).contains { $0.sameBytes($1) }
    }

    private mutating func array(depth: Int) throws(JSONError) -> [JSON] {
        position += 1  // [
        var elements = [JSON]()
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return elements
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            guard let next = peek() else { throw error("unexpected end of text") }
            position += 1
            if next == UInt8(ascii: "]") { return elements }
            guard next == UInt8(ascii: ",") else { throw error("',' or ']' expected") }
        }
    }

    /// A value checked as `value` would, without keeping it.
    private mutating func skip(depth: Int) throws(JSONError) {
        try checkDepth(depth)
        switch peek() {
        case UInt8(ascii: "{")?:
            position += 1
            var names = [String]()
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                position += 1
                return
            }
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw error("string expected as a member name") }
                names.append(try string())
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else { throw error("':' expected") }
                position += 1
                skipWhitespace()
                try skip(depth: depth + 1)
                skipWhitespace()
                guard let next = peek() else { throw error("unexpected end of text") }
                position += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else { throw error("',' or '}' expected") }
            }
            if JSONReader.repeats(names) { throw error("a member name is repeated") }
        case UInt8(ascii: "[")?:
            position += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                position += 1
                return
            }
            while true {
                skipWhitespace()
                try skip(depth: depth + 1)
                skipWhitespace()
                guard let next = peek() else { throw error("unexpected end of text") }
                position += 1
                if next == UInt8(ascii: "]") { return }
                guard next == UInt8(ascii: ",") else { throw error("',' or ']' expected") }
            }
        case UInt8(ascii: "\"")?:
            try skipString()
        default:
            _ = try value(depth: depth)
        }
    }

    /// A string's contents without escapes: valid UTF-8, no control character, up to the quote.
    private mutating func plainRun() throws(JSONError) {
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return }
            if byte < 0x20 { throw error("control character in a string") }
            if byte < 0x80 {
                position += 1
            } else {
                position += try utf8Sequence(at: position)
            }
        }
    }

    /// The length of the valid UTF-8 sequence of a scalar beginning at `start` (RFC 3629: no
    /// overlong form, no surrogate, nothing past U+10FFFF).
    private func utf8Sequence(at start: Int) throws(JSONError) -> Int {
        let lead = bytes[start]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F
        default: throw error("invalid UTF-8")
        }
        guard bytes.count - start >= length else { throw error("invalid UTF-8") }
        guard (low...high).contains(bytes[start + 1]) else { throw error("invalid UTF-8") }
        for offset in 2..<max(2, length) where !(0x80...0xBF).contains(bytes[start + offset]) {
            throw error("invalid UTF-8")
        }
        return length
    }

    private mutating func string() throws(JSONError) -> String {
        position += 1  // "
        let start = position
        try plainRun()
        guard position < bytes.count else { throw error("unterminated string") }
        if bytes[position] == UInt8(ascii: "\"") {
            position += 1
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<(position - 1)]), as: UTF8.self)
        }
        var text = Array(bytes[start..<position])
        while true {
            guard position < bytes.count else { throw error("unterminated string") }
            if bytes[position] == UInt8(ascii: "\"") {
                position += 1
                return String(decoding: text, as: UTF8.self)
            }
            appendUTF8(of: try escape(), to: &text)
            let run = position
            try plainRun()
            text.append(contentsOf: bytes[run..<position])
        }
    }

    private mutating func skipString() throws(JSONError) {
        position += 1  // "
        while true {
            try plainRun()
            guard position < bytes.count else { throw error("unterminated string") }
            if bytes[position] == UInt8(ascii: "\"") {
                position += 1
                return
            }
            _ = try escape()
        }
    }

    /// The scalar of the escape at `position` (a backslash), a surrogate pair as one.
    private mutating func escape() throws(JSONError) -> UInt32 {
        guard bytes.count - position >= 2 else { throw error("unterminated string") }
        let kind = bytes[position + 1]
        position += 2
        switch kind {
        case UInt8(ascii: "\""): return 0x22
        case UInt8(ascii: "\\"): return 0x5C
        case UInt8(ascii: "/"): return 0x2F
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "u"):
            let unit = try hex4()
            switch unit {
            case 0: throw error("\\u0000 in a string")
            case 0xD800...0xDBFF:
                guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw error("a lone surrogate escape") }
                position += 2
                let second = try hex4()
                guard (0xDC00...0xDFFF).contains(second) else { throw error("a lone surrogate escape") }
                return 0x10000 + ((unit - 0xD800) << 10) + (second - 0xDC00)
            case 0xDC00...0xDFFF: throw error("a lone surrogate escape")
            default: return unit
            }
        default: throw error("invalid escape")
        }
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        guard bytes.count - position >= 4 else { throw error("invalid \\u escape") }
        var unit: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            unit = unit << 4 | UInt32(digit)
            position += 1
        }
        return unit
    }

    private func appendUTF8(of scalar: UInt32, to text: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            text.append(UInt8(scalar))
        case 0x80..<0x800:
            text.append(UInt8(0xC0 | scalar >> 6))
            text.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            text.append(UInt8(0xE0 | scalar >> 12))
            text.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            text.append(UInt8(0x80 | scalar & 0x3F))
        default:
            text.append(UInt8(0xF0 | scalar >> 18))
            text.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            text.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            text.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`: an integer when it has neither a
    /// fraction nor an exponent (refused beyond 64 bits), a real otherwise (refused when infinite).
    private mutating func number() throws(JSONError) -> JSON {
        let start = position
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        guard let first = peek(), isDigit(first) else { throw error("invalid number") }
        position += 1
        if first != UInt8(ascii: "0") { skipDigits() }  // (a digit after a leading zero ends the number)
        var integral = true
        if peek() == UInt8(ascii: ".") {
            integral = false
            position += 1
            guard let digit = peek(), isDigit(digit) else { throw error("invalid number") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            integral = false
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let digit = peek(), isDigit(digit) else { throw error("invalid number") }
            skipDigits()
        }
        if integral {
            var magnitude: UInt64 = 0
            for byte in bytes[(negative ? start + 1 : start)..<position] {
                let (times, overflowTimes) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflowSum) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                guard !overflowTimes, !overflowSum else { throw error("an integer beyond 64 bits") }
                magnitude = sum
            }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { throw error("an integer beyond 64 bits") }
                return .integer(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude))
            }
            guard magnitude <= UInt64(Int64.max) else { throw error("an integer beyond 64 bits") }
            return .integer(Int64(magnitude))
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let real = Double(text), real.isFinite else { throw error("a real number beyond range") }
        return .real(real)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { position += 1 }
    }
}
