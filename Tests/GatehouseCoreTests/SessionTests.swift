import Foundation
import Testing

@testable import GatehouseCore

@Suite("Sealed session cookies (AES-256-GCM)")
struct SessionTests {
    static func keys(_ count: Int = 1, seed: UInt8 = 0) -> SessionKeys {
        SessionKeys(
            keys: (0..<count).map { index in (0..<32).map { UInt8(truncatingIfNeeded: Int($0) * 7 + index + Int(seed)) }
            })
    }

    static let contents = SessionContents(
        claims: JSONObject(members: [("sub", .string("alice")), ("roles", .array([.string("viewer")]))]),
        expires: 2_000, idleDeadline: 1_500, idToken: "a.b.c")

    @Test func aSealedSessionOpensWithItsKey() throws {
        let sealed = try #require(Self.contents.seal(keys: Self.keys()))
        let opened = try #require(SessionContents.open(sealed, keys: Self.keys()))
        #expect(opened.claims["sub"]?.stringValue == "alice")
        #expect(opened.expires == 2_000 && opened.idleDeadline == 1_500 && opened.idToken == "a.b.c")
    }

    @Test func theRefreshTokenAndItsTimeTravelTogether() throws {
        var refreshed = Self.contents
        refreshed.refreshToken = "rt"
        refreshed.refreshAt = 1_200
        let sealed = try #require(refreshed.seal(keys: Self.keys()))
        let opened = try #require(SessionContents.open(sealed, keys: Self.keys()))
        #expect(opened.refreshToken == "rt" && opened.refreshAt == 1_200)
        #expect(!opened.refreshDue(now: 1_199) && opened.refreshDue(now: 1_200))
        // one without the other is no refresh
        let json = #"{"v":1,"exp":2000,"idle":1500,"claims":{"sub":"a"},"rt":"rt"}"#
        let alone = try #require(Sealer.seal(Array(json.utf8), name: Cookies.session, keys: Self.keys()))
        let session = try #require(SessionContents.open(alone, keys: Self.keys()))
        #expect(session.refreshToken == nil && !session.refreshDue(now: .max))
    }

    @Test func eachSealUsesAFreshNonce() throws {
        let a = try #require(Self.contents.seal(keys: Self.keys()))
        let b = try #require(Self.contents.seal(keys: Self.keys()))
        #expect(a != b)
        #expect(Array(Base64URL.decode(a)![1..<13]) != Array(Base64URL.decode(b)![1..<13]))
    }

    @Test("any changed byte refuses the cookie", arguments: [0, 1, 12, 13, 40, -17, -1])
    func tampered(_ position: Int) throws {
        let sealed = try #require(Self.contents.seal(keys: Self.keys()))
        var bytes = try #require(Base64URL.decode(sealed))
        let index = position < 0 ? bytes.count + position : position
        bytes[index] ^= 0x01
        #expect(SessionContents.open(Base64URL.encode(bytes), keys: Self.keys()) == nil)
    }

    @Test("a truncated or padded cookie is refused", arguments: [1, 16, 29])
    func truncated(_ cut: Int) throws {
        let sealed = try #require(Self.contents.seal(keys: Self.keys()))
        let bytes = try #require(Base64URL.decode(sealed))
        #expect(SessionContents.open(Base64URL.encode(bytes.dropLast(cut)), keys: Self.keys()) == nil)
        #expect(SessionContents.open(Base64URL.encode(bytes + [0]), keys: Self.keys()) == nil)
        #expect(SessionContents.open("", keys: Self.keys()) == nil)
        #expect(SessionContents.open(sealed + "=", keys: Self.keys()) == nil)
    }

    @Test func aForeignKeyDoesNotOpenIt() throws {
        let sealed = try #require(Self.contents.seal(keys: Self.keys(seed: 1)))
        #expect(SessionContents.open(sealed, keys: Self.keys(seed: 2)) == nil)
    }

    @Test func aValueSealedForTheLoginCookieIsNoSession() throws {
        let login = try #require(LoginState.fresh(target: "/x", now: 0))
        let sealed = try #require(login.seal(keys: Self.keys()))
        #expect(SessionContents.open(sealed, keys: Self.keys()) == nil)
        #expect(LoginState.open(sealed, keys: Self.keys())?.target == "/x")
        let session = try #require(Self.contents.seal(keys: Self.keys()))
        #expect(LoginState.open(session, keys: Self.keys()) == nil)
    }

    @Test func rotationTheFirstKeySealsEveryKeyOpens() throws {
        let old = Self.keys(seed: 5)
        let rotated = SessionKeys(keys: Self.keys(seed: 9).keys + old.keys)
        let before = try #require(Self.contents.seal(keys: old))
        #expect(SessionContents.open(before, keys: rotated) != nil)
        let after = try #require(Self.contents.seal(keys: rotated))
        #expect(Base64URL.decode(after)![0] == Sealer.keyID(rotated.keys[0]))
        #expect(SessionContents.open(after, keys: old) == nil)
    }

    @Test func aSessionEndsAtItsLifetimeAndWhenIdle() {
        #expect(Self.contents.ended(now: 1_499) == nil)
        #expect(Self.contents.ended(now: 1_500)?.contains("idle") == true)
        var long = Self.contents
        long.idleDeadline = 5_000
        #expect(long.ended(now: 2_000)?.contains("session-lifetime") == true)
    }

    @Test(
        "key files",
        arguments: [
            ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", nil),
            ("# a comment\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\r\n\n", nil),
            ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n", "line 1: expected the base64 of 32 random bytes"),
            ("not base64 at all\n", "line 1: expected the base64 of 32 random bytes"),
            ("\n# nothing\n", "expected at least one key"),
        ] as [(String, String?)])
    func keyFiles(_ text: String, _ problem: String?) {
        do {
            let keys = try SessionKeys.parse(Array(text.utf8), path: "k")
            #expect(problem == nil && keys.keys[0] == Array(0..<32))
        } catch {
            #expect(problem.map { error.description.contains($0) } == true, "\(error.description)")
        }
    }

    @Test func cookiesSplitOverChunksAndJoinAgain() throws {
        let long = String(repeating: "A", count: Cookies.chunkLength * 2 + 10)
        let fields = try #require(Cookies.sessionFields(long, maxAge: 60))
        #expect(fields.count == Cookies.maximumChunks)
        let sent = fields.filter { !$0.value.contains("Max-Age=0") }.map { String($0.value.split(separator: ";")[0]) }
        #expect(sent.count == 3)
        #expect(Cookies.sessionValue(in: sent.joined(separator: "; ")) == long)
        #expect(fields.last!.value.hasPrefix("__Host-gatehouse-3=;") && fields.last!.value.contains("Max-Age=0"))
        #expect(Cookies.sessionFields(String(repeating: "A", count: Cookies.chunkLength * 4 + 1), maxAge: 60) == nil)
        for field in fields { #expect(field.value.contains("; Path=/; Secure; HttpOnly; SameSite=Lax")) }
    }

    @Test func aCookieSentTwiceIsNone() {
        #expect(Cookies.value(named: "a", in: "a=1; b=2") == "1")
        #expect(Cookies.value(named: "a", in: "a=1; a=2") == nil)
        #expect(Cookies.value(named: "a", in: "ab=1; xa=2") == nil)
        #expect(Cookies.value(named: "a", in: "a=") == nil)
    }

    @Test func thePKCEChallengeIsS256OfTheVerifier() {
        // RFC 7636 Appendix B
        let login = LoginState(
            state: "s", nonce: "n", verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", target: "/", expires: 0)
        #expect(login.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }

    @Test func aSessionOpenedBeforeIsRememberedOnlyForTheKeysThatOpenedIt() throws {
        var memory = SignInMemory()
        let sealed = try #require(Self.contents.seal(keys: Self.keys(seed: 3)))
        #expect(memory.open(sealed, keys: Self.keys(seed: 3))?.contents.claims["sub"]?.stringValue == "alice")
        #expect(memory.open(sealed, keys: Self.keys(seed: 3)) != nil)
        #expect(memory.open(sealed, keys: Self.keys(seed: 4)) == nil)
        #expect(memory.open(sealed + "A", keys: Self.keys(seed: 3)) == nil)
    }
}
