/// lighttpd 1.4.69's `http_request_parse_target()` with the default `server.http-parseopts`
/// (url-normalize-unreserved, url-ctrls-reject, url-path-2f-decode, url-path-dotseg-remove,
/// url-invalid-utf8-reject): the request-target as the client sent it becomes `r->uri.path` (decoded,
/// dot segments and repeated slashes resolved) and `r->uri.query` (still percent-encoded, normalised).
enum TargetNormalizer {
    /// Why lighttpd answers 400 before any module runs.
    struct Invalid: Error {
        let reason: String
    }

    static func split(_ target: String) throws(Invalid) -> (path: String, query: String, normalized: String) {
        let normalized = try normalize(Array(target.utf8))
        var path = decodePath(Array(normalized.url[..<(normalized.query ?? normalized.url.count)]))
        path = simplify(path)
        guard path.first == UInt8(ascii: "/") else { throw Invalid(reason: "uri-path does not begin with '/'") }
        let query = normalized.query.map { Array(normalized.url[($0 + 1)...]) } ?? []
        return (
            String(decoding: path, as: UTF8.self), String(decoding: query, as: UTF8.self),
            String(decoding: normalized.url, as: UTF8.self)
        )
    }

    private static let hex = Array("0123456789ABCDEF".utf8)

    /// Bytes a URL carries as they are (`encoded_chars_http_uri_reqd` is 0): everything but controls,
    /// space, `"` `#` `%` `<` `>` `[` `\` `]` `^` `` ` `` `{` `|` `}`, DEL and bytes over 0x7F.
    private static func isPlain(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F && !escaped.contains(byte)
    }

    private static let escaped = Set("\"#%<>[\\]^`{|}".utf8)

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "~")
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// `li_utf8_invalid_byte()`: bytes that never occur in UTF-8, and the overlong leads C0 and C1.
    private static func invalidUTF8(_ byte: UInt8) -> Bool { byte >= 0xF5 || byte | 1 == 0xC1 }

    /// `burl_normalize()`: unreserved characters decoded, other escapes in upper case, bytes that must be
    /// escaped escaped, the fragment dropped; then controls refused, `%2F` in the path decoded and the path's
    /// dot segments resolved. `query`: the index of the `?` in `url`.
    private static func normalize(_ bytes: [UInt8]) throws(Invalid) -> (url: [UInt8], query: Int?) {
        var url = [UInt8]()
        var query: Int?
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if isPlain(byte) {
                if byte == UInt8(ascii: "?") && query == nil { query = url.count }
                url.append(byte)
            } else if byte == UInt8(ascii: "%"), index + 2 < bytes.count, let high = nibble(bytes[index + 1]),
                let low = nibble(bytes[index + 2])
            {
                let decoded = high << 4 | low
                if isUnreserved(decoded) {
                    url.append(decoded)
                } else {
                    if invalidUTF8(decoded) { throw Invalid(reason: "invalid UTF-8 in URI") }
                    url += [UInt8(ascii: "%"), hex[Int(high)], hex[Int(low)]]
                }
                index += 2
            } else if byte == UInt8(ascii: "#") {
                break
            } else {
                if invalidUTF8(byte) { throw Invalid(reason: "invalid UTF-8 in URI") }
                url += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
            index += 1
        }
        // burl_contains_ctrls(): %00-%1F and %7F anywhere, the query included.
        for (offset, byte) in url.enumerated() where byte == UInt8(ascii: "%") {
            if url[offset + 1] < UInt8(ascii: "2") || (url[offset + 1] == UInt8(ascii: "7") && url[offset + 2] == 0x46)
            {
                throw Invalid(reason: "invalid character in URI")
            }
        }
        var path = Array(url[..<(query ?? url.count)])
        let rest = Array(url[(query ?? url.count)...])
        var decoded = [UInt8]()
        var at = 0
        while at < path.count {
            if path[at] == UInt8(ascii: "%") && path[at + 1] == UInt8(ascii: "2") && path[at + 2] == 0x46 {
                decoded.append(UInt8(ascii: "/"))
                at += 3
            } else {
                decoded.append(path[at])
                at += 1
            }
        }
        path = simplify(decoded)
        return (path + rest, query == nil ? nil : path.count)
    }

    /// `buffer_urldecode_path()`: `%xx` decoded, a decoded control character written as `_`, a `%` that does
    /// not start an escape kept.
    private static func decodePath(_ bytes: [UInt8]) -> [UInt8] {
        var result = [UInt8]()
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count, let high = nibble(bytes[index + 1]),
                let low = nibble(bytes[index + 2])
            {
                let byte = high << 4 | low
                result.append(byte >= 0x20 && byte != 0x7F ? byte : UInt8(ascii: "_"))
                index += 3
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return result
    }

    /// `buffer_path_simplify()` for a path that starts with `/`: repeated slashes collapsed, `.` segments
    /// dropped and `..` segments remove the one before; a final `.` or `..` leaves a trailing slash.
    private static func simplify(_ path: [UInt8]) -> [UInt8] {
        guard path.first == UInt8(ascii: "/") else { return path }
        var segments = [ArraySlice<UInt8>]()
        let parts = path.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        var trailing = false
        for (number, part) in parts.enumerated() {
            let last = number == parts.count - 1
            switch Array(part) {
            case []: trailing = last
            case [UInt8(ascii: ".")]: trailing = last
            case [UInt8(ascii: "."), UInt8(ascii: ".")]:
                _ = segments.popLast()
                trailing = last
            default:
                segments.append(part)
                trailing = false
            }
        }
        var result = [UInt8(ascii: "/")]
        for (number, segment) in segments.enumerated() {
            result += segment
            if number < segments.count - 1 || trailing { result.append(UInt8(ascii: "/")) }
        }
        return result
    }
}
