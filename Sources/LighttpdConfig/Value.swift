import GatehouseCore

/// A value as lighttpd's parser holds it: `data_string`, `data_integer` (a C `int`, so 32 bits that wrap) or
/// `data_array` (entries in order, each with or without a key).
indirect enum Value: Sendable {
    case string(String)
    case integer(Int32)
    case array([Element])

    struct Element: Sendable {
        var key: String?
        var value: Value
    }

    /// The value handed to `Setting.compile`.
    var configValue: ConfigValue {
        switch self {
        case .string(let text): .string(text)
        case .integer(let number): .integer(Int64(number))
        case .array(let elements): .list(elements.map { (key: $0.key, value: $0.value.configValue) })
        }
    }

    var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .array: "array"
        }
    }

    /// `a + b` and `a += b`, as `configparser_merge_data()` does them: strings concatenate (an integer
    /// operand is written in decimal), integers add (wrapping like C), arrays append. An array entry whose
    /// key is already present is an error, unless its value is the same string or integer (lighttpd then
    /// prints "Duplicate array-key" and keeps the first: returned in `notes`).
    func merged(with other: Value, notes: inout [String]) -> Result<Value, MergeError> {
        switch (self, other) {
        case (.string(let left), .string(let right)): return .success(.string(left + right))
        case (.string(let left), .integer(let right)): return .success(.string(left + String(right)))
        case (.integer(let left), .string(let right)): return .success(.string(String(left) + right))
        case (.integer(let left), .integer(let right)): return .success(.integer(left &+ right))
        case (.array(var destination), .array(let source)):
            for element in source {
                guard let key = element.key,
                    let existing = destination.first(where: { $0.key.map { Value.sameKey($0, key) } ?? false })
                else {
                    destination.append(element)
                    continue
                }
                guard existing.value.isSameScalar(as: element.value) else {
                    return .failure(MergeError("Duplicate array-key '\(key)'"))
                }
                notes.append("Duplicate array-key '\(key)' (same value: lighttpd keeps one)")
            }
            return .success(.array(destination))
        default:
            return .failure(MergeError("data type mismatch, cannot merge (\(typeName) + \(other.typeName))"))
        }
    }

    private func isSameScalar(as other: Value) -> Bool {
        switch (self, other) {
        case (.string(let a), .string(let b)): a.utf8.elementsEqual(b.utf8)
        case (.integer(let a), .integer(let b)): a == b
        default: false
        }
    }

    struct MergeError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// lighttpd's keys (directive names, array keys, condition texts) compare ASCII-case-insensitively.
    static func sameKey(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lowercased($0) == lowercased($1) }
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    static func lowercased(_ text: String) -> String {
        String(decoding: text.utf8.map(lowercased), as: UTF8.self)
    }
}
