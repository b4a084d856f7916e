import GatehouseCore

/// What a condition compares (lighttpd's `comp_key_t`).
enum ConditionField: Sendable, Equatable {
    case url, host, remoteIP, scheme, queryString, requestMethod, serverSocket
    /// `$REQUEST_HEADER["Name"]`, and the `$HTTP[…]` names that are headers underneath.
    case requestHeader(String)

    /// `configparser_comp_key_id()`: `$HTTP["…"]` names are case-sensitive; nil where lighttpd says
    /// "error comp_key".
    init?(object: String, tag: String) {
        switch object {
        case "REQUEST_HEADER": self = .requestHeader(tag)
        case "SERVER" where tag == "socket": self = .serverSocket
        case "HTTP":
            switch tag {
            case "url": self = .url
            case "host": self = .host
            case "referer", "user-agent", "cookie": self = .requestHeader(tag)
            case "useragent": self = .requestHeader("User-Agent")
            case "language": self = .requestHeader("Accept-Language")
            case "remoteip", "remote-ip": self = .remoteIP
            case "querystring", "query-string": self = .queryString
            case "request-method": self = .requestMethod
            case "scheme": self = .scheme
            default: return nil
            }
        default: return nil
        }
    }
}

/// `==`, `!=`, `=~`, `!~`, `=^`, `=$` (lighttpd's `config_cond_t`, less `else`).
enum ConditionOperator: String, Sendable {
    case equal = "=="
    case notEqual = "!="
    case match = "=~"
    case noMatch = "!~"
    case prefix = "=^"
    case suffix = "=$"

    init(_ token: TokenKind) {
        switch token {
        case .notEqual: self = .notEqual
        case .match: self = .match
        case .noMatch: self = .noMatch
        case .prefix: self = .prefix
        case .suffix: self = .suffix
        default: self = .equal
        }
    }
}

/// One `$HTTP["…"] OP "value"` test, its value normalised as lighttpd normalises it at startup.
struct Condition: Sendable {
    let field: ConditionField
    let op: ConditionOperator
    /// The value compared against (`dc->string`).
    var value: String
    /// For `=~` / `!~`, compiled once the whole configuration is read (as lighttpd does).
    var regex: GatehouseCore.Regex?
    /// For `$HTTP["remoteip"] ==` / `!=` with an address: the network and its mask (0: the whole address).
    var network: (address: IPAddress, bits: Int)?

    /// `configparser_simplify_regex()`: a `=~` regex that is only anchors around plain text becomes
    /// `==`, `=^` or `=$` (and `\.ext$` becomes `=$ ".ext"`), which changes the condition's text too.
    static func simplified(_ pattern: String) -> (ConditionOperator, String) {
        var bytes = Array(pattern.utf8)
        var length = bytes.count
        var op = ConditionOperator.match
        var skip = 0
        if length > 0 && bytes[length - 1] == UInt8(ascii: "$") {
            op = .suffix
            if bytes.count > 1 && bytes[0] == UInt8(ascii: "\\") && bytes[1] == UInt8(ascii: ".") {
                skip = 2
            } else if bytes[0] == UInt8(ascii: "^") {
                skip = 1
                op = .equal
            }
            length -= 1
        } else if bytes.first == UInt8(ascii: "^") {
            skip = 1
            op = .prefix
        } else {
            return (.match, pattern)
        }
        let special = Set("\\^$.|?*+()[]{}".utf8)
        let plain = bytes[skip...].prefix { !special.contains($0) && $0 != 0 }.count
        guard skip <= length, plain == length - skip else { return (.match, pattern) }
        if skip > 0 {  // drop only the first character, so "\." keeps its "."
            bytes.removeFirst()
            length -= 1
        }
        return (op, String(decoding: bytes.prefix(length), as: UTF8.self))
    }

    /// Whether the condition itself holds (lighttpd's local result), all request fields being known.
    func holds(for request: RequestView) -> Bool {
        let subject: String
        switch field {
        case .url: subject = request.path
        case .host: subject = request.authority
        case .remoteIP: subject = request.remoteIP
        case .scheme: subject = request.scheme
        case .queryString: subject = request.query
        case .requestMethod: subject = request.method
        case .serverSocket: subject = request.serverSocket
        case .requestHeader(let name): subject = request.header(name)
        }
        let left = Array(subject.utf8)
        let right = Array(value.utf8)
        switch op {
        case .equal, .notEqual:
            let wanted = op == .equal
            if field == .host && right.first != UInt8(ascii: "/") && !left.isEmpty && left.count != right.count {
                // The names match whether or not a ":port" is present on one side.
                let shorter = min(left.count, right.count)
                let portOnly =
                    left.count > right.count
                    ? left[right.count] == UInt8(ascii: ":") && left.count - right.count <= 6
                    : right[left.count] == UInt8(ascii: ":")
                return (portOnly && left.prefix(shorter) == right.prefix(shorter)) == wanted
            }
            if let network {
                guard let client = request.remoteAddress else { return !wanted }
                let same =
                    network.bits > 0
                    ? network.address.contains(client, bits: network.bits)
                    : network.address.isSame(as: client)
                return same == wanted
            }
            return (left == right) == wanted
        case .match, .noMatch:
            return (regex?.matches(subject) ?? false) == (op == .match)
        case .prefix:
            return left.starts(with: right)
        case .suffix:
            return left.count >= right.count && left.suffix(right.count).elementsEqual(right)
        }
    }
}
