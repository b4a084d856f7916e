/// The left side of a rule: `"/api/"`, `"GET,HEAD /api/flows/"`, `"/admin/v2/persistent/{tenant}/"`.
///
/// A path ending in `/` matches that prefix; otherwise the exact path or the path followed by
/// `/…`. `{name}` matches one non-empty segment and binds it as `path.name`. Matching is on
/// lighttpd's normalised path, byte for byte.
public struct PathPattern: Sendable, CustomStringConvertible {
    enum Part: Sendable {
        case literal([UInt8])
        case capture(String)
    }

    public let description: String
    /// Upper-case method names, or nil for any method.
    public let methods: [String]?
    let parts: [Part]
    let isPrefix: Bool
    /// The path's segments after the leading '/', a capture as nil; a prefix pattern's final
    /// empty segment is left out (`/api/` is `["api"]`, `/` is `[]`).
    let segments: [[UInt8]?]
    /// The path with every capture written `{}`: two patterns of one shape match the same paths.
    let shape: String
    /// Specificity, most significant first (docs/policy.md, "Choosing the rule").
    let literalPrefixLength: Int
    let segmentCount: Int
    public var captureNames: [String] {
        parts.compactMap { if case .capture(let name) = $0 { name } else { nil } }
    }

    public init(_ text: String) throws(PolicyError) {
        description = text
        let bytes = Array(text.utf8)
        var pathStart = 0
        if let space = bytes.firstIndex(of: 0x20) {
            var names = [String]()
            var start = 0
            for index in 0...space where index == space || bytes[index] == UInt8(ascii: ",") {
                let name = bytes[start..<index]
                guard !name.isEmpty, name.allSatisfy({ (0x41...0x5A).contains($0) || $0 == UInt8(ascii: "-") }) else {
                    throw PolicyError(
                        "expected upper-case method names separated by commas (GET,HEAD /path)",
                        in: text, at: start)
                }
                names.append(String(decoding: name, as: UTF8.self))
                start = index + 1
            }
            methods = names
            pathStart = space + 1
        } else {
            methods = nil
        }
        guard pathStart < bytes.count, bytes[pathStart] == UInt8(ascii: "/") else {
            throw PolicyError(
                "expected a path starting with '/' (\"/api/\" or \"GET,POST /api/\")",
                in: text, at: pathStart)
        }
        var parts = [Part]()
        var literal = [UInt8]()
        var names = Set<String>()
        var index = pathStart
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"):
                guard index > pathStart, bytes[index - 1] == UInt8(ascii: "/"),
                    let close = bytes[index...].firstIndex(of: UInt8(ascii: "}")),
                    close + 1 == bytes.count || bytes[close + 1] == UInt8(ascii: "/")
                else {
                    throw PolicyError("'{name}' must be a whole path segment", in: text, at: index)
                }
                let name = String(decoding: bytes[(index + 1)..<close], as: UTF8.self)
                guard PathPattern.isCaptureName(name) else {
                    throw PolicyError(
                        "a capture name is a letter or '_' then letters, digits, '_' or '-'",
                        in: text, at: index + 1)
                }
                guard names.insert(name).inserted else {
                    throw PolicyError("'{\(name)}' appears twice", in: text, at: index)
                }
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = []
                parts.append(.capture(name))
                index = close + 1
            case UInt8(ascii: "}"), 0x20, 0x09, 0x00..<0x20, 0x7F:
                throw PolicyError("unexpected character in a path pattern", in: text, at: index)
            default:
                literal.append(byte)
                index += 1
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
        isPrefix = bytes.last == UInt8(ascii: "/")
        var segments: [[UInt8]?] = bytes[(pathStart + 1)...].split(
            separator: UInt8(ascii: "/"),
            omittingEmptySubsequences: false
        ).map { segment in
            segment.first == UInt8(ascii: "{") ? nil : Array(segment)
        }
        if isPrefix { segments.removeLast() }
        self.segments = segments
        shape =
            "/" + segments.map { $0.map { String(decoding: $0, as: UTF8.self) } ?? "{}" }.joined(separator: "/")
            + (isPrefix && !segments.isEmpty ? "/" : "")
        let firstBrace = bytes[pathStart...].firstIndex(of: UInt8(ascii: "{")) ?? bytes.count
        literalPrefixLength = firstBrace - pathStart
        segmentCount = bytes[pathStart...].split(separator: UInt8(ascii: "/")).count
    }

    /// The pattern's text with the letters of its path in lower case, captures' names kept.
    static func caseFolded(_ text: String) -> String {
        var inCapture = false
        let pathStart = text.utf8.firstIndex(of: 0x20).map { text.utf8.distance(from: text.utf8.startIndex, to: $0) }
        var out = [UInt8]()
        for (offset, byte) in text.utf8.enumerated() {
            if byte == UInt8(ascii: "{") { inCapture = true }
            if byte == UInt8(ascii: "}") { inCapture = false }
            let inPath = offset > (pathStart ?? -1)
            out.append(inPath && !inCapture && (0x41...0x5A).contains(byte) ? byte | 0x20 : byte)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isCaptureName(_ name: String) -> Bool {
        guard let first = name.utf8.first,
            first == UInt8(ascii: "_") || (0x41...0x5A).contains(first) || (0x61...0x7A).contains(first)
        else {
            return false
        }
        return name.utf8.allSatisfy {
            (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
                || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    /// Whether the method is one the pattern names (any, when it names none).
    func matches(method: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let methods else { return true }
        return methods.contains { $0.utf8.elementsEqual(method) }
    }

    /// Matches `path`; returns the captures (empty for a pattern without any), or nil.
    func match(path: UnsafeBufferPointer<UInt8>) -> [(name: String, value: String)]? {
        var captures = [(name: String, value: String)]()
        var offset = 0
        for part in parts {
            switch part {
            case .literal(let literal):
                guard path.count - offset >= literal.count,
                    literal.withUnsafeBufferPointer({ memoryEqual($0, UnsafeBufferPointer(rebasing: path[offset...])) })
                else { return nil }
                offset += literal.count
            case .capture(let name):
                let end = path[offset...].firstIndex(of: UInt8(ascii: "/")) ?? path.count
                guard end > offset else { return nil }
                captures.append(
                    (name, String(decoding: UnsafeBufferPointer(rebasing: path[offset..<end]), as: UTF8.self)))
                offset = end
            }
        }
        if isPrefix || offset == path.count || path[offset] == UInt8(ascii: "/") { return captures }
        return nil
    }

    /// Compares the first `prefix.count` bytes of `whole` with `prefix`.
    private func memoryEqual(_ prefix: UnsafeBufferPointer<UInt8>, _ whole: UnsafeBufferPointer<UInt8>) -> Bool {
        for index in 0..<prefix.count where prefix[index] != whole[index] { return false }
        return true
    }
}
