import Testing

@testable import GatehouseCore

@Suite struct Base64URLTests {
    @Test(
        arguments: [
            ("", []), ("Zg", [0x66]), ("Zm8", [0x66, 0x6f]), ("Zm9v", [0x66, 0x6f, 0x6f]),
            ("-_8", [0xfb, 0xff]),
        ] as [(String, [UInt8])])
    func decodes(_ text: String, _ bytes: [UInt8]) {
        #expect(Base64URL.decode(text) == bytes)
        #expect(Base64URL.encode(bytes) == text)
    }

    @Test(arguments: ["Zg==", "Zm9v=", "Z", "Zh", "Zm9", "+/8", "Zm 9", "Zm9v\n"])
    func refusesPaddingOtherAlphabetsAndNonCanonicalForms(_ text: String) {
        // "Zh" and "Zm9" carry non-zero unused bits: another encoding of "f" and "fo".
        #expect(Base64URL.decode(text) == nil)
    }
}

extension Base64URL {
    /// The encoder the tests use to build tokens byte by byte (the core only decodes).
    static func encode(_ input: some Collection<UInt8>) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var output = [UInt8]()
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            accumulator = (accumulator << 8) | UInt32(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                output.append(alphabet[Int((accumulator >> UInt32(bits)) & 0x3F)])
            }
        }
        if bits > 0 { output.append(alphabet[Int((accumulator << UInt32(6 - bits)) & 0x3F)]) }
        return String(decoding: output, as: UTF8.self)
    }
}
