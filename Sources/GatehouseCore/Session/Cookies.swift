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

    /// The values of cookie `name` in a Cookie header value (RFC 6265 §5.4 syntax), read byte
    /// by byte but for the values, which memchr skips (a session is read on every request).
    static func values(named name: String, in header: String) -> [Substring] {
        var header = header
        var name = name
        let ranges = header.withUTF8 { bytes in
            name.withUTF8 { wanted in
                var found = [Range<Int>]()
                guard let base = bytes.baseAddress else { return found }
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
                        wanted.isEmpty || memcmp(bytes.baseAddress! + pair, wanted.baseAddress!, wanted.count) == 0
                    {
                        found.append(value..<end)
                    }
                    start = end + 1
                }
                return found
            }
        }
        let utf8 = header.utf8
        return ranges.map { range in
            Substring(
                utf8[
                    utf8.index(
                        utf8.startIndex, offsetBy: range.lowerBound)..<utf8.index(
                            utf8.startIndex, offsetBy: range.upperBound)])
        }
    }

    /// The one value of cookie `name`; nil when absent, empty or sent twice (which one would the
    /// application read?).
    static func value(named name: String, in header: String?) -> String? {
        guard let header else { return nil }
        let found = values(named: name, in: header)
        guard found.count == 1, !found[0].isEmpty else { return nil }
        return String(found[0])
    }

    /// The sealed session as the browser sent it: its chunks joined.
    static func sessionValue(in header: String?) -> String? {
        guard var joined = value(named: session, in: header) else { return nil }
        for index in 1..<maximumChunks {
            guard let more = value(named: chunkNames[index], in: header) else { break }
            joined += more
        }
        return joined
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
