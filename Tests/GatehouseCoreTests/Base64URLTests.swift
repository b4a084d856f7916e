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
