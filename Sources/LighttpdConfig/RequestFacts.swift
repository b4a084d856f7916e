/// What lighttpd knows about a request when it evaluates `$HTTP[…]` conditions. Give the values as
/// lighttpd holds them after parsing the request: `path` URL-decoded and normalised (`r->uri.path`),
/// `query` without the `?` (`r->uri.query`).
public struct RequestFacts: Sendable {
    /// `$HTTP["url"]`.
    public var path: String
    /// `$HTTP["host"]`: the Host header (or the request line's authority). lighttpd lower-cases it, drops a
    /// trailing dot and the scheme's default port and writes IP literals canonically; so does this reader.
    /// Empty: taken from a `Host` entry in `headers`, if any.
    public var host: String
    /// `$HTTP["request-method"]`.
    public var method: String
    /// `$HTTP["remoteip"]`: the client address (after mod_extforward, if it is used).
    public var remoteIP: String
    /// `$HTTP["scheme"]`: "http" or "https".
    public var scheme: String
    /// `$HTTP["querystring"]`.
    public var query: String
    /// Request headers in the order received; `$REQUEST_HEADER["…"]`, `$HTTP["useragent"]`,
    /// `$HTTP["cookie"]`, `$HTTP["referer"]`, `$HTTP["language"]`. Repeated names are joined as lighttpd
    /// joins them (", ", or "; " for Cookie); a missing header is the empty string.
    public var headers: [(name: String, value: String)]
    /// `$SERVER["socket"]`: the socket the request came in on, written as lighttpd names it: the string of
    /// the `$SERVER["socket"] == "…"` that opened it (":8443", "127.0.0.1:8080"), or for the global
    /// socket `server.bind` + ":" + `server.port`. nil: the global socket of the configuration.
    public var serverSocket: String?
    /// `r->target`: the request-target once normalised (path and query, still percent-encoded), what
    /// `url.rewrite` patterns match; set by `init(parsing:)`.
    public internal(set) var target = ""

    public init(
        path: String, host: String = "", method: String = "GET", remoteIP: String = "127.0.0.1",
        scheme: String = "http", query: String = "", headers: [(name: String, value: String)] = [],
        serverSocket: String? = nil
    ) {
        self.path = path
        self.host = host
        self.method = method
        self.remoteIP = remoteIP
        self.scheme = scheme
        self.query = query
        self.headers = headers
        self.serverSocket = serverSocket
    }

    /// A request header as lighttpd holds it: repeated fields joined with ", " ("; " for Cookie), names
    /// compared without regard to case; nil when absent or blank (lighttpd drops empty fields).
    public func header(_ name: String) -> String? {
        let key = Value.lowercased(name)
        let separator = key == "cookie" ? "; " : ", "
        var joined: String?
        for field in headers where !field.value.isEmpty && Value.lowercased(field.name) == key {
            joined = joined.map { $0 + separator + field.value } ?? field.value
        }
        return joined
    }

    /// How many request headers CGI reads as `name`, as lighttpd holds them (fields of one name in any
    /// case are one header): names compared without regard to case and with every character other than a
    /// letter or digit taken as '_' (`X-Token` and `X_Token` are two headers CGI reads as one).
    public func cgiCount(_ name: String) -> Int {
        func cgi(_ text: String) -> [UInt8] {
            text.utf8.map { byte in
                switch byte {
                case 0x30...0x39, 0x41...0x5A: byte
                case 0x61...0x7A: byte - 0x20
                default: UInt8(ascii: "_")
                }
            }
        }
        let key = cgi(name)
        return Set(headers.filter { !$0.value.isEmpty && cgi($0.name) == key }.map { Value.lowercased($0.name) }).count
    }

    /// `r->uri.authority`: the host (or the Host header when `host` is empty) lower-cased, without a trailing
    /// dot on the name, IP literals canonical and the scheme's default port dropped.
    public var authority: String {
        RequestView.authority(host.isEmpty ? header("Host") ?? "" : host, scheme: scheme)
    }
}

/// A request as the condition evaluator reads it: every field in the form lighttpd compares.
struct RequestView {
    let path: String
    let authority: String
    let method: String
    let remoteIP: String
    let remoteAddress: IPAddress?
    let scheme: String
    let query: String
    let serverSocket: String
    private let facts: RequestFacts

    init(_ facts: RequestFacts, globalSocket: String) {
        self.facts = facts
        path = facts.path
        method = facts.method
        scheme = facts.scheme
        query = facts.query
        serverSocket = facts.serverSocket ?? globalSocket
        remoteAddress = IPAddress(client: facts.remoteIP)
        remoteIP = remoteAddress?.text ?? facts.remoteIP
        authority = facts.authority
    }

    func header(_ name: String) -> String {
        facts.header(name) ?? ""
    }

    /// Lower-cased, without a trailing dot on the name, normalised with the scheme's default port dropped
    /// (lighttpd's default `server.http-parseopts` host-strict and host-normalize).
    static func authority(_ host: String, scheme: String) -> String {
        var bytes = Array(Value.lowercased(host).utf8)
        if bytes.first != UInt8(ascii: "[") {
            let colon = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.count
            if colon > 1 && bytes[colon - 1] == UInt8(ascii: ".") { bytes.remove(at: colon - 1) }
        }
        let lowered = String(decoding: bytes, as: UTF8.self)
        let port = scheme == "https" ? 443 : 80
        return HostNormalizer.normalize(lowered, schemePort: port) ?? lowered
    }
}
