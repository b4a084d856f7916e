import CJansson
import Testing

@testable import GatehouseCore

#if canImport(Glibc)
    import Glibc
#endif

/// The core's JSON reader against jansson (what parsed tokens and key files before it), on the same
/// bytes: each text accepted by one is accepted by the other with the same value, or refused by both.
/// jansson is asked with the rules the core had with it: duplicates refused, no NUL, depth at most 32.
@Suite("The JSON reader")
struct JSONReaderTests {
    /// jansson's answer: the value, or nil when it refuses the text.
    static func jansson(_ bytes: [UInt8]) -> JSON? {
        guard !bytes.isEmpty else { return nil }
        var error = json_error_t()
        let loaded = bytes.withUnsafeBytes { raw in
            json_loadb(
                raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count, Int(JSON_REJECT_DUPLICATES), &error)
        }
        guard let root = loaded else { return nil }
        defer { json_decref(root) }
        return convert(root, depth: 0)
    }

    private static func convert(_ node: UnsafeMutablePointer<json_t>, depth: Int) -> JSON? {
        if depth > JSON.maximumDepth { return nil }
        switch node.pointee.type {
        case JSON_OBJECT:
            var members = [(key: String, value: JSON)]()
            var iterator = json_object_iter(node)
            while let current = iterator {
                let length = json_object_iter_key_len(current)
                let key = json_object_iter_key(current).withMemoryRebound(to: UInt8.self, capacity: length) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                }
                guard let value = convert(json_object_iter_value(current), depth: depth + 1) else { return nil }
                members.append((key, value))
                iterator = json_object_iter_next(node, current)
            }
            return .object(JSONObject(members: members))
        case JSON_ARRAY:
            var elements = [JSON]()
            for index in 0..<json_array_size(node) {
                guard let element = convert(json_array_get(node, index), depth: depth + 1) else { return nil }
                elements.append(element)
            }
            return .array(elements)
        case JSON_STRING:
            let length = json_string_length(node)
            return .string(
                json_string_value(node).withMemoryRebound(to: UInt8.self, capacity: length) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                })
        case JSON_INTEGER: return .integer(Int64(json_integer_value(node)))
        case JSON_REAL: return .real(json_real_value(node))
        case JSON_TRUE: return .bool(true)
        case JSON_FALSE: return .bool(false)
        default: return .null
        }
    }

    /// The same value: same kinds, members in the same order with the same bytes, equal numbers.
    static func same(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.real(let x), .real(let y)): return x == y
        case (.string(let x), .string(let y)): return x.sameBytes(y)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return x.members.count == y.members.count
                && zip(x.members, y.members).allSatisfy { $0.key.sameBytes($1.key) && same($0.value, $1.value) }
        default: return false
        }
    }

    /// Texts each side of every rule: numbers, strings, escapes, UTF-8, structure, depth, duplicates.
    static let corpus: [[UInt8]] = {
        var texts: [String] = [
            "{}", "[]", " { } ", "\t[\n]\r\n", "{\"a\":1}", "[1,2,3]", "[true,false,null]", "{\"a\":{\"b\":[{}]}}",
            "", " ", "1", "\"x\"", "true", "null", "{", "}", "[", "]", "[1,]", "[,1]", "{\"a\":1,}", "{,}",
            "{\"a\"}", "{\"a\" 1}", "{a:1}", "{'a':1}", "[1 2]", "[1]x", "[1] [2]", "{}{}", "[tru]", "[nul]",
            "[True]", "[NaN]", "[Infinity]", "[-Infinity]", "[truex]", "[falsey]", "[null1]",
            // numbers
            "[0]", "[-0]", "[01]", "[-01]", "[00]", "[1.5]", "[1.]", "[.5]", "[-]", "[+1]", "[1e5]", "[1E5]",
            "[1e+5]", "[1e-5]", "[1e]", "[1e+]", "[0.0]", "[-0.0]", "[1.5e3]", "[0x10]", "[1_000]", "[- 1]",
            "[9223372036854775807]", "[-9223372036854775808]", "[9223372036854775808]", "[-9223372036854775809]",
            "[99999999999999999999]", "[1e308]", "[1e309]", "[-1e309]", "[1e-400]", "[123456789012345678.5]",
            "[2.2250738585072014e-308]", "[0.1]", "[5e-324]", "[1.7976931348623157e308]",
            // strings and escapes
            "[\"\"]", "[\"a\\\"b\"]", "[\"\\\\\"]", "[\"\\/\"]", "[\"\\b\\f\\n\\r\\t\"]", "[\"\\x\"]", "[\"\\'\"]",
            "[\"\\u0041\"]", "[\"\\u00e9\"]", "[\"\\u00E9\"]", "[\"\\u20ac\"]", "[\"\\uD83D\\uDE00\"]",
            "[\"\\ud83d\\ude00\"]", "[\"\\uD83D\"]", "[\"\\uDE00\"]", "[\"\\uD83Dx\"]", "[\"\\uD83D\\u0041\"]",
            "[\"\\uD83D\\uD83D\"]", "[\"\\u0000\"]", "[\"a\\u0000b\"]", "[\"\\u001f\"]", "[\"\\u12\"]",
            "[\"\\u12g4\"]", "[\"\\U0041\"]", "[\"unterminated]", "[\"a\\\"]", "[\"\\", "[\"tab\there\"]",
            "[\"new\nline\"]", "[\"\u{7f}\"]", "[\"é\"]", "[\"€\"]", "[\"😀\"]", "[\"\\uFFFF\"]", "[\"\\uFEFF\"]",
            // objects, duplicates
            "{\"a\":1,\"a\":2}", "{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":1,\"\\u0061\":2}", "{\"é\":1,\"e\\u0301\":2}",
            "{\"é\":1,\"\\u00e9\":2}", "{\"\":1}", "{\"\":1,\"\":2}", "{\"a\":{\"x\":1,\"x\":2}}",
            "[{\"a\":1},{\"a\":2}]", "{\"a\":[{\"b\":1,\"b\":1}]}",
            "{\"iss\":\"https://idp.example/\",\"sub\":\"alice\",\"aud\":[\"api\",\"other\"],\"exp\":1700000000,"
                + "\"iat\":1.7e9,\"roles\":[\"viewer\",\"operator\"],\"realm_access\":{\"roles\":[\"admin\"]},"
                + "\"email_verified\":true,\"nested\":{\"a\":{\"b\":{\"c\":null}}}}",
        ]
        // Many members: the duplicate check beyond its pairwise range.
        let many = (0..<40).map { "\"k\($0)\":\($0)" }
        texts.append("{" + many.joined(separator: ",") + "}")
        texts.append("{" + (many + ["\"k17\":0"]).joined(separator: ",") + "}")
        texts.append("{" + (["\"k17\":0"] + many).joined(separator: ",") + "}")
        // Depth: 32 levels below the top hold values, 33 do not.
        for levels in [31, 32, 33, 34, 40] {
            texts.append(String(repeating: "[", count: levels) + "1" + String(repeating: "]", count: levels))
            texts.append(String(repeating: "[", count: levels + 1) + String(repeating: "]", count: levels + 1))
            texts.append(String(repeating: "{\"a\":", count: levels) + "1" + String(repeating: "}", count: levels))
        }
        texts.append(String(repeating: "[", count: 5000))
        var bytes = texts.map { Array($0.utf8) }
        // Raw bytes that are not UTF-8 (overlong, surrogates, beyond U+10FFFF, truncated), and NUL.
        let raw: [[UInt8]] = [
            [0xC0, 0xAF], [0xC1, 0xBF], [0xC2, 0xA9], [0xE0, 0x80, 0xAF], [0xE0, 0xA0, 0x80], [0xED, 0xA0, 0x80],
            [0xED, 0x9F, 0xBF], [0xEF, 0xBF, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80],
            [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80], [0xC2],
            [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC2, 0x41], [0xE2, 0x28, 0xA1], [0x00], [0x7F],
        ]
        for sequence in raw {
            bytes.append(Array("[\"".utf8) + sequence + Array("\"]".utf8))
            bytes.append(Array("{\"".utf8) + sequence + Array("\":1}".utf8))
            bytes.append(Array("[1]".utf8) + sequence)
        }
        bytes.append([0xEF, 0xBB, 0xBF] + Array("{}".utf8))  // a byte-order mark
        bytes.append(Array("{}".utf8) + [0])
        return bytes
    }()

    /// Deterministic mutations of valid texts: a byte replaced, dropped or doubled, many times over.
    static var mutations: [[UInt8]] {
        var generator = SplitMix(seed: 0x6a7e_4853)
        let sources = corpus.filter { jansson($0) != nil && $0.count > 2 }
        let alphabet = Array("{}[]\",:\\u0123456789abcdefE.-+ tnrlsx".utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xED, 0xFF]
        return (0..<4000).map { _ in
            var text = sources[Int(generator.next() % UInt64(sources.count))]
            for _ in 0..<(1 + generator.next() % 3) {
                let at = Int(generator.next() % UInt64(text.count))
                switch generator.next() % 3 {
                case 0: text[at] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                case 1: if text.count > 1 { text.remove(at: at) }
                default: text.insert(text[at], at: at)
                }
            }
            return text
        }
    }

    func check(_ texts: [[UInt8]]) -> (accepted: Int, refused: Int) {
        var accepted = 0
        var refused = 0
        for text in texts {
            let expected = JSONReaderTests.jansson(text)
            // Keeping one member of the top-level object, the others are checked as strictly.
            let selective = text.withUnsafeBufferPointer { JSONReader.read($0, keeping: { $0 == "a" }) }
            #expect(
                (selective.failure == nil) == (expected != nil),
                "keeping one member, answered otherwise than jansson: \(String(decoding: text, as: UTF8.self))")
            switch JSON.parse(text) {
            case .success(let value):
                accepted += 1
                #expect(
                    expected.map { JSONReaderTests.same($0, value) } == true,
                    "accepted what jansson refuses or reads otherwise: \(String(decoding: text, as: UTF8.self))")
            case .failure:
                refused += 1
                #expect(expected == nil, "refused what jansson accepts: \(String(decoding: text, as: UTF8.self))")
            }
        }
        return (accepted, refused)
    }

    @Test func theCorpusIsReadAsJanssonReadsIt() {
        let (accepted, refused) = check(JSONReaderTests.corpus)
        #expect(accepted >= 60 && refused >= 100, "accepted \(accepted), refused \(refused)")
    }

    @Test func mutatedTextsAreReadAsJanssonReadsThem() {
        let (accepted, refused) = check(JSONReaderTests.mutations)
        #expect(accepted >= 400 && refused >= 1000, "accepted \(accepted), refused \(refused)")
    }

    @Test func aNumberKeepsItsKind() throws {
        let value = try JSON.parse(Array("[1, -0, 1.0, 1e2, -9223372036854775808]".utf8)).get()
        guard case .array(let elements) = value else {
            Issue.record("not an array")
            return
        }
        #expect(JSONReaderTests.same(value, .array([.integer(1), .integer(0), .real(1), .real(100), .integer(.min)])))
        #expect(elements.count == 5)
    }

    @Test func escapesGiveTheirScalars() throws {
        let value = try JSON.parse(Array(#"["a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00é"]"#.utf8)).get()
        #expect(JSONReaderTests.same(value, .array([.string("a\"\\/\u{8}\u{c}\n\r\té😀é")])))
    }

    @Test func theSelectedMembersAreKeptAndTheOthersStillChecked() throws {
        let text = Array(#"{"sub":"a","jti":{"x":[1,2]},"roles":["r"],"email":"e"}"#.utf8)
        let kept = try text.withUnsafeBufferPointer { bytes in
            try JSONReader.read(bytes, keeping: { $0 == "sub" || $0 == "roles" }).get()
        }
        #expect(
            JSONReaderTests.same(
                kept, .object(JSONObject(members: [("sub", .string("a")), ("roles", .array([.string("r")]))]))))
        for refused in [
            #"{"sub":"a","jti":{"x":1,"x":2}}"#, #"{"sub":"a","jti":"\ud800"}"#, #"{"sub":"a","jti":01}"#,
            #"{"sub":"a","sub":"b"}"#, #"{"jti":1,"jti":2}"#, #"{"jti":"\u0000"}"#,
            "{\"jti\":" + String(repeating: "[", count: 33) + String(repeating: "]", count: 33) + "}",
        ] {
            let bytes = Array(refused.utf8)
            #expect(JSONReaderTests.jansson(bytes) == nil)
            let answer = bytes.withUnsafeBufferPointer { JSONReader.read($0, keeping: { $0 == "sub" }) }
            #expect(answer.failure != nil, "kept \(refused)")
        }
    }
}

/// A small deterministic generator (SplitMix64), so the mutations are the same on every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
