#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// lighttpd's normalisation of host names and addresses, used on the values of `$HTTP["host"]`,
/// `$HTTP["remoteip"]` and `$SERVER["socket"]` conditions and on the request's host.
enum HostNormalizer {
    /// `http_request_host_normalize()`: an IPv4 or bracketed IPv6 literal in canonical form, the port
    /// (decimal, octal or hex) re-written in decimal and dropped when it is `schemePort`. Other names are
    /// kept as they are (not lower-cased). nil where lighttpd fails ("invalid IP addr").
    static func normalize(_ text: String, schemePort: Int = 0) -> String? {
        let bytes = Array(text.utf8)
        var host: String
        var port = 0
        if bytes.first != UInt8(ascii: "[") {
            host = text
            if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
                if colon == 0 { return nil }
                if colon + 1 < bytes.count {
                    guard let parsed = parsePort(String(decoding: bytes[(colon + 1)...], as: UTF8.self)) else {
                        return nil
                    }
                    port = parsed
                }
                host = String(decoding: bytes[..<colon], as: UTF8.self)
            }
            if let first = host.utf8.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9"),
                let address = IPAddress(host, family: .v4)
            {
                host = address.text
            }
        } else {
            guard bytes.count > 2 else { return nil }
            var bracket = bytes.count - 1
            if bytes[bracket] != UInt8(ascii: "]") {
                guard let found = bytes[1...].firstIndex(of: UInt8(ascii: "]")), found + 1 < bytes.count,
                    bytes[found + 1] == UInt8(ascii: ":"), found != 1
                else { return nil }
                bracket = found
                if found + 2 < bytes.count {
                    guard let parsed = parsePort(String(decoding: bytes[(found + 2)...], as: UTF8.self)) else {
                        return nil
                    }
                    port = parsed
                }
            }
            let percent = bytes[1...].firstIndex(of: UInt8(ascii: "%"))
            let end = percent ?? bracket
            guard end >= 1, let address = IPAddress(String(decoding: bytes[1..<end], as: UTF8.self), family: .v6)
            else { return nil }
            var inside = address.text
            if let percent {
                if percent > bracket { return nil }
                inside += String(decoding: bytes[percent..<bracket], as: UTF8.self)
            }
            host = "[" + inside + "]"
        }
        if port != 0 && port != schemePort { host += ":\(port)" }
        return host
    }

    /// A port as `strtol(…, 0)` reads it, whole and within 1…65535.
    private static func parsePort(_ text: String) -> Int? {
        text.withCString { pointer -> Int? in
            var end: UnsafeMutablePointer<CChar>?
            let value = strtol(pointer, &end, 0)
            guard let end, end.pointee == 0, value > 0, value <= 65535 else { return nil }
            return value
        }
    }

    /// A `$HTTP["remoteip"]` value for `==`, `!=`, `=^`, `=$` (`config_remoteip_normalize()`): an address,
    /// optionally with a CIDR mask; a value starting with `/` (a unix socket path) is kept as it is.
    enum RemoteIP {
        case path
        case network(IPAddress, bits: Int, normalized: String)
        /// lighttpd refuses it at startup: "invalid IP addr".
        case invalid
        /// lighttpd 1.4.69 accepts it without a word but then compares against memory it never filled in.
        case undefined(String)
    }

    static func remoteIP(_ text: String) -> RemoteIP {
        let bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "/") { return .path }
        let isV6 = bytes.contains(UInt8(ascii: ":"))
        var address = text
        var bits = 0
        if let slash = bytes.firstIndex(of: UInt8(ascii: "/")) {
            let mask = bytes[(slash + 1)...]
            guard !mask.isEmpty, mask.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let value = Int(String(decoding: mask, as: UTF8.self)), value > 0, value <= (isV6 ? 128 : 32)
            else { return .undefined("the CIDR mask must be 1 to \(isV6 ? 128 : 32)") }
            bits = value
            address = String(decoding: bytes[..<slash], as: UTF8.self)
        }
        let normalized: String
        if isV6 {
            let bracketed = address.hasPrefix("[") ? address : "[" + address + "]"
            guard let host = normalize(bracketed) else { return .undefined("not an IPv6 address") }
            normalized = String(host.dropFirst().dropLast())
        } else {
            guard let host = normalize(address) else { return .undefined("not an IPv4 address") }
            normalized = host
        }
        guard let parsed = IPAddress(normalized, family: isV6 ? .v6 : .v4) else { return .invalid }
        return .network(parsed, bits: bits, normalized: normalized + (bits > 0 ? "/\(bits)" : ""))
    }
}
