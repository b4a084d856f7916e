import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Just enough HTTP/1.0 over a plain socket to ask a local lighttpd something with exactly the request
/// line and headers a test wants (Host included).
enum HTTPProbe {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A port nothing listens on right now.
    static func freePort(ipv6: Bool = false) throws -> Int {
        let fd = try connectedSocket(host: ipv6 ? "::1" : "127.0.0.1", port: 0, bindOnly: true)
        defer { close(fd) }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return withUnsafePointer(to: &storage) { pointer -> Int in
            // sin_port and sin6_port sit at the same offset
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                Int(UInt16(bigEndian: $0.pointee.sin_port))
            }
        }
    }

    /// Sends `request` (CRLFs added) and returns the response's status line and headers (names lower-cased).
    static func exchange(
        host: String, port: Int, request lines: [String]
    ) throws
        -> (status: String, headers: [String: String])
    {
        let fd = try connectedSocket(host: host, port: port, bindOnly: false)
        defer { close(fd) }
        let bytes = Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { throw Failure(description: "send failed") }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer.prefix(count)
        }
        let head = String(decoding: response, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0]
        let headLines = head.components(separatedBy: "\r\n")
        var headers = [String: String]()
        for line in headLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[line[..<colon].lowercased()] = value
        }
        return (headLines[0], headers)
    }

    static func waitUntilListening(host: String, port: Int, seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let fd = try? connectedSocket(host: host, port: port, bindOnly: false) {
                close(fd)
                return true
            }
            usleep(50_000)
        }
        return false
    }

    private static func connectedSocket(host: String, port: Int, bindOnly: Bool) throws -> Int32 {
        let ipv6 = host.contains(":")
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        /// bind or connect with `address`, a sockaddr_in or sockaddr_in6.
        func call<Address>(_ address: inout Address) -> Int32 {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    let size = socklen_t(MemoryLayout<Address>.size)
                    return bindOnly ? bind(fd, $0, size) : connect(fd, $0, size)
                }
            }
        }
        let result: Int32
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &address.sin6_addr)
            result = call(&address)
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            result = call(&address)
        }
        guard result == 0 else {
            close(fd)
            throw Failure(description: "cannot \(bindOnly ? "bind" : "connect to") \(host):\(port)")
        }
        return fd
    }
}
