/// Unpadded base64url (RFC 7515 §2), strict: no padding, no other alphabet, no whitespace,
/// and only the canonical encoding (the unused low bits of the last character are zero).
enum Base64URL {
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func isAlphabet(_ byte: UInt8) -> Bool {
        decodeTable[Int(byte)] != 0xFF
    }

    /// Decodes `input`, or returns nil when it is not canonical unpadded base64url.
    static func decode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let count = input.count
        if count % 4 == 1 { return nil }
        let outputCount = count / 4 * 3 + max(0, count % 4 - 1)
        return decodeTable.withUnsafeBufferPointer { table -> [UInt8]? in
            var valid = true
            let output = [UInt8](unsafeUninitializedCapacity: outputCount) { out, initialized in
                // Four characters make three bytes; 0xFF in the table marks a byte outside the alphabet.
                var o = 0
                var i = 0
                while i + 4 <= count {
                    let a = table[Int(input[i])]
                    let b = table[Int(input[i + 1])]
                    let c = table[Int(input[i + 2])]
                    let d = table[Int(input[i + 3])]
                    if (a | b | c | d) & 0x80 != 0 {
                        valid = false
                        break
                    }
                    out[o] = a << 2 | b >> 4
                    out[o + 1] = b << 4 | c >> 2
                    out[o + 2] = c << 6 | d
                    o += 3
                    i += 4
                }
                let rest = count - i
                if valid && rest >= 2 {
                    let a = table[Int(input[i])]
                    let b = table[Int(input[i + 1])]
                    let c = rest == 3 ? table[Int(input[i + 2])] : 0
                    if (a | b | c) & 0x80 != 0 {
                        valid = false
                    } else if rest == 2 {
                        out[o] = a << 2 | b >> 4
                        valid = b & 0x0F == 0  // canonical: the unused low bits are zero
                        o += 1
                    } else {
                        out[o] = a << 2 | b >> 4
                        out[o + 1] = b << 4 | c >> 2
                        valid = c & 0x03 == 0
                        o += 2
                    }
                }
                initialized = valid ? o : 0
                if !valid { return }
            }
            return valid ? output : nil
        }
    }

    static func decode(_ input: some StringProtocol) -> [UInt8]? {
        let bytes = Array(input.utf8)
        return bytes.withUnsafeBufferPointer { decode($0) }
    }
}
