/// `pcre_keyvalue_burl_normalize_key()`, which lighttpd applies to `$HTTP["querystring"]` values so they
/// compare with request URLs as lighttpd normalises those: `%xx` escapes in upper case, bytes over 0x7F
/// percent-encoded.
enum QueryNormalizer {
    static func normalizedCondition(_ value: String) -> String {
        var bytes = Array(value.utf8)
        func isHex(_ c: UInt8) -> Bool {
            let letter = c & 0xDF
            return (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                || (letter >= UInt8(ascii: "A") && letter <= UInt8(ascii: "F"))
        }
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") && i + 2 < bytes.count && isHex(bytes[i + 1]) && isHex(bytes[i + 2]) {
                for j in i + 1...i + 2 where bytes[j] >= UInt8(ascii: "a") { bytes[j] &= 0xDF }
                i += 2
            }
            i += 1
        }
        let hex = Array("0123456789ABCDEF".utf8)
        var result = [UInt8]()
        for byte in bytes {
            if byte > 0x7F {
                result += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            } else {
                result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}
