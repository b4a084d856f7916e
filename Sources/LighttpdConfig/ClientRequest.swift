/// A request as a client sends it, before lighttpd has parsed it: the request-target as written on the
/// request line and the header fields in the order sent (the Host among them).
public struct ClientRequest: Sendable {
    public var method: String
    /// The path and query as sent (`/a%2Fb/../c?x=%61`); a fragment is dropped, as lighttpd drops it.
    public var target: String
    public var headers: [(name: String, value: String)]
    public var remoteIP: String
    public var scheme: String
    public var serverSocket: String?

    public init(
        method: String, target: String, headers: [(name: String, value: String)], remoteIP: String = "127.0.0.1",
        scheme: String = "http", serverSocket: String? = nil
    ) {
        self.method = method
        self.target = target
        self.headers = headers
        self.remoteIP = remoteIP
        self.scheme = scheme
        self.serverSocket = serverSocket
    }
}

/// lighttpd refuses the request itself, before any module (and so mod_gatehouse) sees it.
public struct RequestRejected: Error, CustomStringConvertible {
    public let status: Int
    public let reason: String
    public var description: String { "lighttpd answers \(status) before any module runs: \(reason)" }
}

extension RequestFacts {
    /// The request as lighttpd 1.4.69 holds it once parsed with the default `server.http-parseopts`
    /// (header-strict, host-strict, url-normalize): what both mod_gatehouse and `$HTTP[…]` conditions
    /// read. Header values lose surrounding blanks and empty fields are dropped; the request-target is
    /// normalised, decoded and its dot segments resolved; the Host is checked and normalised.
    public init(parsing request: ClientRequest) throws(RequestRejected) {
        func reject(_ reason: String) -> RequestRejected { RequestRejected(status: 400, reason: reason) }
        var headers = [(name: String, value: String)]()
        var host: String?
        var singles = [String: String]()  // fields lighttpd allows once (or repeated with the same value)
        var chunked = false
        for (name, raw) in request.headers {
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw reject("invalid character in header key (\(name))")
            }
            let value = Self.trimmed(raw)
            if value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
                throw reject("invalid character in header \(name)")
            }
            if value.isEmpty { continue }
            let key = Value.lowercased(name)
            switch key {
            case "host", "content-type", "if-modified-since":
                if let earlier = singles[key] {
                    guard Value.lowercased(earlier) == Value.lowercased(value) else {
                        throw reject("duplicate \(name)")
                    }
                    continue
                }
                singles[key] = value
                if key == "host" {
                    if value.utf8.count >= 1024 { throw reject("uri-authority too long") }
                    host = Value.lowercased(value)
                }
            case "content-length":
                if singles[key] != nil { throw reject("duplicate Content-Length") }
                guard value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    throw reject("invalid Content-Length")
                }
                singles[key] = value
            case "transfer-encoding":
                guard Value.lowercased(value) == "chunked" else {
                    throw RequestRejected(status: 501, reason: "a Transfer-Encoding other than chunked")
                }
                chunked = true
                continue  // hop-by-hop: lighttpd reads the body and keeps no such field
            default: break
            }
            headers.append((name, value))
        }
        guard let host else { throw reject("HTTP/1.1 but Host missing") }
        guard let authority = Self.validHost(host, scheme: request.scheme) else { throw reject("invalid Hostname") }
        let parts: (path: String, query: String, normalized: String)
        do {
            parts = try TargetNormalizer.split(request.target)
        } catch {
            throw reject(error.reason)
        }
        // What the request says of its body (request.c, after the headers): a POST must give its
        // length, even of no body (a client posting none sends "Content-Length: 0").
        if chunked, singles["content-length"] != nil { throw reject("invalid Transfer-Encoding + Content-Length") }
        if chunked || singles["content-length"]?.utf8.contains(where: { $0 != UInt8(ascii: "0") }) == true,
            request.method == "GET" || request.method == "HEAD"
        {
            throw reject("GET/HEAD with content-length")
        }
        if request.method == "POST", !chunked, singles["content-length"] == nil {
            throw RequestRejected(
                status: 411,
                reason: "POST-request, but content-length missing (a client posting no body sends Content-Length: 0)")
        }
        self.init(
            path: parts.path, host: authority, method: request.method,
            remoteIP: IPAddress(client: request.remoteIP)?.text ?? request.remoteIP, scheme: request.scheme,
            query: parts.query, headers: headers, serverSocket: request.serverSocket)
        target = parts.normalized
    }

    /// RFC 9110 §5.6.2 token characters, as lighttpd's strict header parsing accepts them.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F && !separators.contains(byte)
    }

    private static let separators = Set("()<>@,;:\\\"/[]?={}".utf8)

    private static func trimmed(_ value: String) -> String {
        let bytes = Array(value.utf8)
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) })
        else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    /// `request_check_hostname()` then `http_request_host_normalize()`: nil where lighttpd answers 400.
    private static func validHost(_ host: String, scheme: String) -> String? {
        var bytes = Array(host.utf8)
        if bytes.first != UInt8(ascii: "[") {
            let colon = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.count
            var name = Array(bytes[..<colon])
            if name.last == UInt8(ascii: ".") { name.removeLast() }
            guard !name.isEmpty else { return nil }
            var labelLength = 0
            var allNumeric = true
            var numeric = true
            var level = 0
            for (index, byte) in name.enumerated() {
                labelLength += 1
                if byte >= 0x30 && byte <= 0x39 { continue }
                if (byte >= 0x61 && byte <= 0x7A) || (byte == UInt8(ascii: "-") && index != 0) {
                    numeric = false
                } else if byte == UInt8(ascii: "."), labelLength != 1,
                    index + 1 >= name.count || name[index + 1] != UInt8(ascii: "-")
                {
                    allNumeric = allNumeric && numeric
                    numeric = true
                    labelLength = 0
                    level += 1
                } else {
                    return nil
                }
            }
            if labelLength == 0 || (numeric && (level != 3 || !allNumeric)) { return nil }
            let port = bytes[colon...]
            guard port.dropFirst().allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            bytes = name + port
        } else {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1,
                bytes[1..<close].allSatisfy({ byte in
                    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) || byte == UInt8(ascii: ".")
                        || byte == UInt8(ascii: ":")
                }),
                bytes[(close + 1)...].first.map({ $0 == UInt8(ascii: ":") }) ?? true,
                bytes[(close + 1)...].dropFirst().allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
            else { return nil }
        }
        if bytes.last == UInt8(ascii: ":") { bytes.removeLast() }
        return HostNormalizer.normalize(
            String(decoding: bytes, as: UTF8.self), schemePort: scheme == "https" ? 443 : 80)
    }
}
