#if canImport(Glibc)
    import Glibc
#endif

/// Where a request may carry its token (`gatehouse.token-sources`, tried in order).
public enum TokenSource: Sendable, Equatable, CustomStringConvertible {
    /// `header:Authorization`: the Bearer scheme (RFC 6750 §2.1).
    case authorization
    /// `header:NAME`: the header's whole value is the token.
    case header(String)
    /// `cookie:NAME`: the value of that cookie.
    case cookie(String)
    /// `query:NAME`: the value of that query parameter (RFC 6750 §2.3 names it access_token).
    case query(String)

    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let kind = text[..<colon]
        let name = String(text[text.index(after: colon)...])
        // (no `=` either: `a=b=TOKEN` is cookie `a` to a backend, never cookie `a=b`)
        guard !name.isEmpty,
            name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: "=") })
        else { return nil }
        switch kind {
        case "header":
            guard IdentityField.isHeaderName(name) else { return nil }
            self = name.lowercased() == "authorization" ? .authorization : .header(name)
        case "cookie": self = .cookie(name)
        case "query": self = .query(name)
        default: return nil
        }
    }

    /// The request header the token comes in, for a header source.
    var headerName: String? {
        switch self {
        case .authorization: "Authorization"
        case .header(let name): name
        case .cookie, .query: nil
        }
    }

    public var description: String {
        switch self {
        case .authorization: "header:Authorization"
        case .header(let name): "header:\(name)"
        case .cookie(let name): "cookie:\(name)"
        case .query(let name): "query:\(name)"
        }
    }

    /// The token the request carries, from the first source that has one; a token in two
    /// places (two sources, two cookies of the name, two Authorization headers) is refused.
    static func token(in request: HTTPRequest, from sources: [TokenSource]) -> Result<String?, TokenError> {
        var found: String?
        for source in sources {
            if let error = source.collect(in: request, into: &found) { return .failure(error) }
        }
        return .success(found)
    }

    /// Puts the token this source finds in `request` into `found`: an error when it finds one
    /// and `found` holds one already, or when what it finds is malformed.
    private func collect(in request: HTTPRequest, into found: inout String?) -> TokenError? {
        func add(_ token: String) -> TokenError? {
            if found != nil { return TokenError(.malformed, "a token in more than one place") }
            found = token
            return nil
        }
        switch self {
        case .authorization:
            var bearer: Result<String?, TokenError> = .success(nil)
            _ = request.readHeader("Authorization") { bearer = TokenSource.bearer($0) }
            switch bearer {
            case .failure(let error): return error
            case .success(let token?): return add(token)
            case .success(nil): return nil
            }
        case .header(let name):
            guard let value = request.header(name) else { return nil }
            let token = value.split(separator: " ", omittingEmptySubsequences: true)
            return token.isEmpty ? nil : add(token.count == 1 ? String(token[0]) : value)
        case .cookie(let name):
            var error: TokenError?
            _ = request.readHeader("Cookie") { bytes in
                Cookies.forEachValue(named: name, in: bytes) { range in
                    var value = UnsafeBufferPointer(rebasing: bytes[range])
                    if value.count >= 2, value.first == 0x22, value.last == 0x22 {
                        value = UnsafeBufferPointer(rebasing: value.dropFirst().dropLast())
                    }
                    error = error ?? add(String(decoding: value, as: UTF8.self))
                }
            }
            return error
        case .query(let name):
            for value in TokenSource.parameters(named: name, in: request.query) {
                if let error = add(value) { return error }
            }
            return nil
        }
    }

    /// The values of query parameter `name` (its `name=value` pairs); names compare byte for byte.
    private static func parameters(named name: String, in query: String) -> [String] {
        query.split(separator: "&").compactMap { pair in
            let pair = pair.drop { $0 == " " }
            guard let equals = pair.firstIndex(of: "="), String(pair[..<equals]).sameBytes(name) else { return nil }
            return String(pair[pair.index(after: equals)...].reversed().drop { $0 == " " }.reversed())
        }
    }

    /// The bearer token of an Authorization value (RFC 6750 §2.1). Another scheme is no
    /// token; two credentials (two Authorization headers, which lighttpd joins with ", ")
    /// are refused.
    private static let bearerScheme: StaticString = "bearer"

    static func bearer(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<String?, TokenError> {
        let scheme = UnsafeBufferPointer(start: TokenSource.bearerScheme.utf8Start, count: 6)
        /// Whether the bytes from `index` spell "bearer" in any case.
        func bearer(at index: Int) -> Bool {
            bytes.count - index >= scheme.count
                && (0..<scheme.count).allSatisfy { offset in
                    let byte = bytes[index + offset]
                    return (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) == scheme[offset]
                }
        }
        // (memchr: the one pass over a token's bytes that every request makes)
        if let base = bytes.baseAddress, memchr(base, Int32(UInt8(ascii: ",")), bytes.count) != nil,
            bytes.indices.contains(where: bearer)
        {
            return .failure(TokenError(.malformed, "more than one credential in Authorization"))
        }
        guard bearer(at: 0) else { return .success(nil) }
        if bytes.count > scheme.count, bytes[scheme.count] != 0x20 {
            return bytes[scheme.count] < 0x20
                ? .failure(TokenError(.malformed, "a control character after Bearer")) : .success(nil)
        }
        let start = bytes[scheme.count...].firstIndex { $0 != 0x20 } ?? bytes.count
        guard start < bytes.count else {
            return .failure(TokenError(.malformed, "the Bearer credential is empty"))
        }
        // (the token's bytes become a string once, straight from the request's header)
        return .success(String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self))
    }
}

extension TokenSource {
    /// Whether this source and `other` read the same header (as a CGI backend sees its name), cookie or
    /// query parameter (in any letter case).
    func readsSamePlace(as other: TokenSource) -> Bool {
        switch (self, other) {
        case (.authorization, .authorization): true
        case (.header(let x), .header(let y)): IdentityField.normalisedName(x) == IdentityField.normalisedName(y)
        case (.cookie(let x), .cookie(let y)), (.query(let x), .query(let y)): x.lowercased() == y.lowercased()
        default: false
        }
    }
}
