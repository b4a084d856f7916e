/// What lighttpd sees of a request, for a decision. A class of constants: the steps of a decision
/// (and the expression context, the audit record) share one request instead of copying its strings,
/// paths and header functions; a request seen another way is another request (`with(…)`).
public final class HTTPRequest {
    public let method: String
    /// lighttpd's normalised path (decoded, dot segments resolved), as the bytes lighttpd holds:
    /// rules match these bytes, so a path that is not UTF-8 is matched as sent, never as U+FFFD.
    public let pathBytes: [UInt8]
    /// The path the client asked for, normalised the same way, when lighttpd serves another one
    /// for it (a `url.rewrite`, an error handler's re-dispatch); nil otherwise.
    public let originalPathBytes: [UInt8]?
    /// The path for logs, explanations and the audit record (bytes that are not UTF-8 shown as U+FFFD).
    public var path: String { String(decoding: pathBytes, as: UTF8.self) }
    public var originalPath: String? { originalPathBytes.map { String(decoding: $0, as: UTF8.self) } }
    public let host: String
    public let remoteIP: String
    /// The query string as the client sent it (after '?').
    public let query: String
    /// `server.force-lowercase-filenames`: lighttpd serves `/ADMIN/x` as `/admin/x`.
    public let lowercasePaths: Bool
    /// Calls its second argument with the bytes of the request header named by the first
    /// (case-insensitive), valid during the call; false when the request has none.
    public let readHeader: (String, (UnsafeBufferPointer<UInt8>) -> Void) -> Bool
    /// How many request headers CGI reads as this name (`X-Token` and `X_Token` are one name
    /// there); by default, 1 when `readHeader` finds it.
    public let headerCount: (String) -> Int

    /// A request header's value by name (case-insensitive); nil when absent.
    public func header(_ name: String) -> String? {
        var value: String?
        _ = readHeader(name) { value = String(decoding: $0, as: UTF8.self) }
        return value
    }

    /// A request whose headers `header` looks up.
    public convenience init(
        method: String, path: String, originalPath: String? = nil, host: String, remoteIP: String,
        query: String = "", lowercasePaths: Bool = false, header: @escaping (String) -> String?,
        headerCount: ((String) -> Int)? = nil
    ) {
        self.init(
            method: method, pathBytes: Array(path.utf8), originalPathBytes: originalPath.map { Array($0.utf8) },
            host: host, remoteIP: remoteIP, query: query, lowercasePaths: lowercasePaths,
            readHeader: { name, body in
                guard var value = header(name) else { return false }
                value.withUTF8(body)
                return true
            }, headerCount: headerCount)
    }

    public init(
        method: String, pathBytes: [UInt8], originalPathBytes: [UInt8]?, host: String, remoteIP: String,
        query: String, lowercasePaths: Bool,
        readHeader: @escaping (String, (UnsafeBufferPointer<UInt8>) -> Void) -> Bool, headerCount: ((String) -> Int)?
    ) {
        self.query = query
        self.method = method
        self.pathBytes = pathBytes
        self.originalPathBytes = originalPathBytes
        self.host = host
        self.remoteIP = remoteIP
        self.lowercasePaths = lowercasePaths
        self.readHeader = readHeader
        self.headerCount = headerCount ?? { name in readHeader(name) { _ in } ? 1 : 0 }
    }

    /// This request with another method (a CORS preflight's question), or served at another path
    /// (the path the client asked for, when lighttpd serves a rewritten one: no original path then).
    func with(method: String? = nil, servedPath: [UInt8]? = nil) -> HTTPRequest {
        HTTPRequest(
            method: method ?? self.method, pathBytes: servedPath ?? pathBytes,
            originalPathBytes: servedPath == nil ? originalPathBytes : nil, host: host, remoteIP: remoteIP,
            query: query, lowercasePaths: lowercasePaths, readHeader: readHeader, headerCount: headerCount)
    }
}
