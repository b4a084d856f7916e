/// Where a browser is sent after signing in or out: a path on this origin, never another site.
/// Anything else becomes "/". Browsers read `//evil`, `/\evil` and `/<TAB>/evil` as another
/// host, and decode or drop some bytes before they do (CVE-2021-32786, CVE-2021-39191,
/// CVE-2022-23527, CVE-2020-4037): so only printable ASCII without a backslash is kept, and the
/// path must start with one "/" and no second "/", "\\" or blank, before and after percent-decoding.
public enum ReturnTarget {
    public static func sanitized(_ target: String) -> String {
        isSameOrigin(target) ? target : "/"
    }

    public static func isSameOrigin(_ target: String) -> Bool {
        let bytes = Array(target.utf8)
        guard bytes.count <= 2048, bytes.first == UInt8(ascii: "/"),
            bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") })
        else { return false }
        var decoded = bytes
        for _ in 0..<3 {
            // Decoded again and again: "%252F" is "%2F" after one pass, "/" after two.
            decoded = percentDecoded(decoded)
            guard decoded.first == UInt8(ascii: "/"),
                !(decoded.count > 1
                    && (decoded[1] <= 0x20 || decoded[1] == 0x7F || decoded[1] == UInt8(ascii: "/")
                        || decoded[1] == UInt8(ascii: "\\")))
            else { return false }
        }
        return true
    }

    private static func percentDecoded(_ bytes: [UInt8]) -> [UInt8] {
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 0x30...0x39: b - 0x30
            case 0x41...0x46: b - 0x37
            case 0x61...0x66: b - 0x57
            default: nil
            }
        }
        var out = [UInt8]()
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count, let high = hex(bytes[index + 1]),
                let low = hex(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    /// A request's path and query as a return target: the path percent-encoded again (lighttpd
    /// decoded it), the query as the client sent it.
    static func of(path: String, query: String) -> String {
        let keep = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/".utf8)
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        for byte in path.utf8 {
            if keep.contains(byte) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        let encoded = String(decoding: out, as: UTF8.self)
        return sanitized(query.isEmpty ? encoded : encoded + "?" + query)
    }
}
