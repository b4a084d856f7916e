/// An IPv4 or IPv6 address with a prefix length (`10.0.0.0/8`, `::1`, `2001:db8::/32`), for
/// `request.ip in [...]`. Parsed when the configuration loads; no resolver, no Foundation.
public struct IPNetwork: Sendable, CustomStringConvertible {
    let bytes: [UInt8]  // 4 or 16
    let prefix: Int
    public let description: String

    public init?(_ text: String) {
        description = text
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPNetwork.parseAddress(String(parts[0])) else { return nil }
        bytes = address
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...(address.count * 8)).contains(length),
                parts[1].allSatisfy(\.isASCII)
            else { return nil }
            prefix = length
        } else {
            prefix = address.count * 8
        }
    }

    /// Why `IPNetwork(text)` is nil, for the error that stops startup.
    static func problem(with text: String) -> String {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return "'\(text)' has more than one '/'" }
        guard let address = parseAddress(String(parts[0])) else {
            return "'\(parts[0])' is not an IPv4 or IPv6 address (no leading zeros, no host names)"
        }
        let most = address.count * 8
        guard parts.count == 2, let length = Int(parts[1]), parts[1].allSatisfy(\.isASCII), length >= 0 else {
            return "the prefix length of '\(text)' must be a number from 0 to \(most)"
        }
        return "the prefix length of '\(text)' is too long: /\(length), at most /\(most) for an IPv"
            + (most == 32 ? "4" : "6") + " address"
    }

    public func contains(_ address: String) -> Bool {
        guard var other = IPNetwork.parseAddress(address) else { return false }
        if other.count == 16, bytes.count == 4, other[0..<12] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] {
            other = Array(other[12...])  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is the IPv4 address
        }
        guard other.count == bytes.count else { return false }
        var remaining = prefix
        for index in bytes.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if bytes[index] & mask != other[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    static func parseAddress(_ text: String) -> [UInt8]? {
        text.contains(":") ? parseIPv6(text) : parseIPv4(text)
    }

    private static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var result = [UInt8]()
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = UInt8(part), part.count == 1 || part.first != "0"
            else { return nil }
            result.append(value)
        }
        return result
    }

    private static func parseIPv6(_ text: String) -> [UInt8]? {
        var text = Substring(text)
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }  // zone index
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: Substring) -> [UInt8]? {
            if part.isEmpty { return [] }
            var out = [UInt8]()
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, field) in fields.enumerated() {
                if index == fields.count - 1, field.contains(".") {
                    guard let v4 = parseIPv4(String(field)) else { return nil }
                    out += v4
                    continue
                }
                guard (1...4).contains(field.count), let value = UInt16(field, radix: 16) else { return nil }
                out += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count < 16 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}

extension Substring {
    /// Splits on a two-character separator ("::") without the string-processing module.
    fileprivate func components(separatedBy separator: String) -> [Substring] {
        let pattern = Array(separator)
        var parts = [Substring]()
        var start = startIndex
        var index = startIndex
        while index < endIndex {
            if self[index...].starts(with: pattern) {
                parts.append(self[start..<index])
                index = self.index(index, offsetBy: pattern.count)
                start = index
            } else {
                index = self.index(after: index)
            }
        }
        parts.append(self[start...])
        return parts
    }
}
