#if canImport(Glibc)
    import Glibc
#endif

/// A JSON value as a token or a key file gave it. Object members keep their order and are
/// looked up by their exact UTF-8 bytes (never by Swift's Unicode-equivalence `==`).
public enum JSON: Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case real(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// The deepest nesting accepted; claims and JOSE headers need a handful of levels.
    static let maximumDepth = 32

    /// Parses a JSON text (an object or an array) with `JSONReader`: strict RFC 8259, refusing
    /// duplicate member names, NUL characters in strings and nesting deeper than `maximumDepth`.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<JSON, JSONError> {
        guard bytes.count > 0 else { return .failure(JSONError("empty JSON text")) }
        return JSONReader.read(bytes.assumingMemoryBound(to: UInt8.self))
    }

    public static func parse(_ bytes: [UInt8]) -> Result<JSON, JSONError> {
        bytes.withUnsafeBytes { parse($0) }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The value at a dot path: object member names (`realm_access.roles`), and decimal
    /// indexes into arrays (`orgs.0.id`).
    public func value(atPath path: ClaimPath) -> JSON? {
        var current = self
        for name in path.components {
            switch current {
            case .object(let object):
                guard let next = object[name] else { return nil }
                current = next
            case .array(let elements):
                guard name.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), name.utf8.count <= 9, let index = Int(name),
                    index < elements.count
                else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    /// Compact JSON text, with every non-ASCII and control character escaped, so the text
    /// is safe in a log line or an HTTP header.
    public var serialized: String {
        var out = ""
        serialize(into: &out)
        return out
    }

    private func serialize(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .integer(let value): out += String(value)
        case .real(let value): out += value.isFinite ? "\(value)" : "null"
        case .string(let value): JSON.serialize(string: value, into: &out)
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.serialize(into: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (index, member) in object.members.enumerated() {
                if index > 0 { out += "," }
                JSON.serialize(string: member.key, into: &out)
                out += ":"
                member.value.serialize(into: &out)
            }
            out += "}"
        }
    }

    static func serialize(string: String, into out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case " "..."~": out.unicodeScalars.append(scalar)
            default:
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            }
        }
        out += "\""
    }
}

/// A JSON object: members in document order, found by exact bytes.
public struct JSONObject: Sendable {
    public let members: [(key: String, value: JSON)]

    public init(members: [(key: String, value: JSON)]) {
        self.members = members
    }

    public subscript(name: String) -> JSON? {
        for member in members where member.key.sameBytes(name) { return member.value }
        return nil
    }
}

public struct JSONError: Error, Sendable {
    public let message: String
    init(_ message: String) { self.message = message }
}

extension String {
    /// Byte-for-byte equality of the UTF-8 forms: no Unicode canonical equivalence (Swift's
    /// `==` treats NFC and NFD spellings as equal, which identity checks must not).
    func sameBytes(_ other: String) -> Bool {
        let contiguous = utf8.withContiguousStorageIfAvailable { mine in
            other.utf8.withContiguousStorageIfAvailable { theirs in
                mine.count == theirs.count
                    && (mine.isEmpty || memcmp(mine.baseAddress!, theirs.baseAddress!, mine.count) == 0)
            }
        }
        if let contiguous, let result = contiguous { return result }
        // Small strings: equal bytes are always `==` (quick to say no); `==` may also hold for other bytes.
        guard self == other, utf8.count == other.utf8.count else { return false }
        var mine = self
        var theirs = other
        return mine.withUTF8 { a in
            theirs.withUTF8 { b in a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
        }
    }
}
