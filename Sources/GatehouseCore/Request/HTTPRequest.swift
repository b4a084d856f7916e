/// What lighttpd sees of a request, for a decision.
public struct HTTPRequest {
    public var method: String
    /// lighttpd's normalised path (decoded, dot segments resolved), as the bytes lighttpd holds:
    /// rules match these bytes, so a path that is not UTF-8 is matched as sent, never as U+FFFD.
    public var pathBytes: [UInt8]
    /// The path the client asked for, normalised the same way, when lighttpd serves another one
    /// for it (a `url.rewrite`, an error handler's re-dispatch); nil otherwise.
    public var originalPathBytes: [UInt8]?
    /// The path for logs, explanations and the audit record (bytes that are not UTF-8 shown as U+FFFD).
    public var path: String { String(decoding: pathBytes, as: UTF8.self) }
    public var originalPath: String? { originalPathBytes.map { String(decoding: $0, as: UTF8.self) } }
    public var host: String
    public var remoteIP: String
    /// The query string as the client sent it (after '?').
    public var query: String
    /// `server.force-lowercase-filenames`: lighttpd serves `/ADMIN/x` as `/admin/x`.
    public var lowercasePaths: Bool
    /// Looks up a request header by name (case-insensitive); nil when absent.
    public var header: (String) -> String?
    /// How many request headers CGI reads as this name (`X-Token` and `X_Token` are one name
    /// there); by default, 1 when `header` finds it.
    public var headerCount: (String) -> Int

    public init(
        method: String, path: String, originalPath: String? = nil, host: String, remoteIP: String,
        query: String = "", lowercasePaths: Bool = false, header: @escaping (String) -> String?,
        headerCount: ((String) -> Int)? = nil
    ) {
        self.init(
            method: method, pathBytes: Array(path.utf8), originalPathBytes: originalPath.map { Array($0.utf8) },
            host: host, remoteIP: remoteIP, query: query, lowercasePaths: lowercasePaths, header: header,
            headerCount: headerCount)
    }

    public init(
        method: String, pathBytes: [UInt8], originalPathBytes: [UInt8]?, host: String, remoteIP: String,
        query: String, lowercasePaths: Bool, header: @escaping (String) -> String?,
        headerCount: ((String) -> Int)?
    ) {
        self.query = query
        self.method = method
        self.pathBytes = pathBytes
        self.originalPathBytes = originalPathBytes
        self.host = host
        self.remoteIP = remoteIP
        self.lowercasePaths = lowercasePaths
        self.header = header
        self.headerCount = headerCount ?? { header($0) == nil ? 0 : 1 }
    }
}
