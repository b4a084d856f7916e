#if canImport(Glibc)
    import Glibc
#endif

/// The cookies sign-in sets. `__Host-` (RFC 6265bis §4.1.3.2): the browser keeps them only
/// when set over a secure origin with `Secure`, `Path=/` and no `Domain`, so no other host or
/// path can plant or read them.
public enum Cookies {
    /// The session; when it does not fit one cookie, the rest follows in `__Host-gatehouse-1`….
    public static let session = "__Host-gatehouse"
    /// A login in progress: state, nonce, PKCE verifier and where to return (10 minutes).
    public static let login = "__Host-gatehouse-login"
    /// The most bytes of sealed value per cookie (browsers keep 4096 per name and value).
    static let chunkLength = 3800
    /// The most cookies one session spans.
    static let maximumChunks = 4

    /// The names of the session's cookies: `__Host-gatehouse`, then `__Host-gatehouse-1`….
    static let chunkNames = (0..<maximumChunks).map { $0 == 0 ? session : "\(session)-\($0)" }

    /// Calls `body` with the range of each value of cookie `name` in a Cookie header's bytes
    /// (RFC 6265 §5.4 syntax; whitespace around a pair left out), in order: read byte by byte but
    /// for the values, which memchr skips (a session is read on every request, without making the
    /// header a string).
    static func forEachValue(
        named name: String, in bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void
    ) {
        guard let base = bytes.baseAddress else { return }
        var name = name
        name.withUTF8 { wanted in
            var start = 0
            while start < bytes.count {
                let end =
                    memchr(base + start, Int32(UInt8(ascii: ";")), bytes.count - start).map {
                        UnsafeRawPointer(base).distance(to: UnsafeRawPointer($0))
                    } ?? bytes.count
                var pair = start
                while pair < end, bytes[pair] == 0x20 || bytes[pair] == 0x09 { pair += 1 }
                let value = pair + wanted.count + 1
                if value <= end, bytes[value - 1] == UInt8(ascii: "="),
                    wanted.isEmpty || memcmp(base + pair, wanted.baseAddress!, wanted.count) == 0
                {
                    var last = end
                    while last > value, bytes[last - 1] == 0x20 || bytes[last - 1] == 0x09 { last -= 1 }
                    body(value..<last)
                }
                start = end + 1
            }
        }
    }

    /// The one value of cookie `name`; nil when absent, empty or sent twice (which one would the
    /// application read?).
    static func value(named name: String, in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var found: Range<Int>?
        var count = 0
        forEachValue(named: name, in: bytes) { range in
            found = range
            count += 1
        }
        guard count == 1, let found, !found.isEmpty else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[found]), as: UTF8.self)
    }

    static func value(named name: String, in header: String?) -> String? {
        guard var header else { return nil }
        return header.withUTF8 { value(named: name, in: $0) }
    }

    /// The sealed session as the browser sent it (in a Cookie header's bytes): its chunks joined.
    static func sessionValue(in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard var joined = value(named: session, in: bytes) else { return nil }
        for index in 1..<maximumChunks {
            guard let more = value(named: chunkNames[index], in: bytes) else { break }
            joined += more
        }
        return joined
    }

    static func sessionValue(in header: String?) -> String? {
        guard var header else { return nil }
        return header.withUTF8 { sessionValue(in: $0) }
    }

    /// A Set-Cookie value; `maxAge` 0 deletes the cookie.
    static func setCookie(_ name: String, _ value: String, maxAge: Int64) -> (name: String, value: String) {
        ("Set-Cookie", "\(name)=\(value); Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=\(maxAge)")
    }

    /// The Set-Cookie fields of a sealed session: one cookie, or chunks; every unused chunk
    /// deleted. Nil when it needs more than `maximumChunks` cookies.
    static func sessionFields(_ sealed: String, maxAge: Int64) -> [(name: String, value: String)]? {
        let bytes = Array(sealed.utf8)
        let count = (bytes.count + chunkLength - 1) / chunkLength
        guard count <= maximumChunks else { return nil }
        return (0..<maximumChunks).map { index in
            guard index < count else { return setCookie(chunkNames[index], "", maxAge: 0) }
            let chunk = bytes[(index * chunkLength)..<min(bytes.count, (index + 1) * chunkLength)]
            return setCookie(chunkNames[index], String(decoding: chunk, as: UTF8.self), maxAge: maxAge)
        }
    }

    /// Deletes the session and its chunks.
    static func clearSession() -> [(name: String, value: String)] {
        (0..<maximumChunks).map { setCookie(chunkNames[$0], "", maxAge: 0) }
    }
}
