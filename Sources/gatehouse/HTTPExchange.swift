import Foundation

/// One HTTP/1.1 request written byte for byte to a server (`gatehouse test --url`): the method, the
/// request-target as the case wrote it (not normalised, so `..` and `%2e` reach the server), every
/// header field as given, repeated ones repeated. Only the status line and the header fields of the
/// answer are read; the connection is then closed.
enum HTTPExchange {
    struct Response {
        let status: Int
        let headers: [(name: String, value: String)]

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    /// The server could not be reached at all (a usage error: every case would fail the same way).
    struct Unreachable: Error, CustomStringConvertible {
        let description: String
    }

    /// The answer went wrong for this request (a timeout, a malformed answer): the case fails.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The answer's head may not be longer than this.
    static let headLimit = 64 * 1024

    static func send(_ request: [UInt8], host: String, port: String, timeout: Int) throws -> Response {
        let fd = try connect(host: host, port: port, timeout: timeout)
        defer { close(fd) }
        var offset = 0
        while offset < request.count {
            let sent = request.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, request.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 && errno == EINTR { continue }
            // The server may answer (and close) before reading a body it refuses: read what it said.
            if sent <= 0 { break }
            offset += sent
        }
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let blank = Data("\r\n\r\n".utf8)
        while true {
            while received.range(of: blank) == nil {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count < 0 && errno == EINTR { continue }
                if count < 0 { throw Failure(description: "no answer within \(timeout) s (\(errorText()))") }
                if count == 0 { return try parse(received) }
                received += buffer[..<count]
                guard received.count <= headLimit else {
                    throw Failure(description: "the answer's head exceeds 64 KiB")
                }
            }
            let response = try parse(received)
            // An interim answer (100 Continue, RFC 9110 §15.2) comes before the final one.
            guard (100...199).contains(response.status), response.status != 101 else { return response }
            received = Data(received[received.range(of: blank)!.upperBound...])
        }
    }

    private static func connect(host: String, port: String, timeout: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, port, &hints, &list)
        guard resolved == 0, let list else {
            throw Unreachable(description: "cannot resolve \(host): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(list) }
        var reason = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let address = entry {
            entry = address.pointee.ai_next
            let fd = socket(
                address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue),
                address.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            var limit = timeval(tv_sec: timeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 { return fd }
            reason = errorText()
            close(fd)
        }
        throw Unreachable(description: "cannot connect to \(host):\(port): \(reason)")
    }

    private static func parse(_ head: Data) throws -> Response {
        let end = head.range(of: Data("\r\n\r\n".utf8))?.lowerBound ?? head.endIndex
        let text = String(decoding: head[..<end], as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...599).contains(status)
        else { throw Failure(description: "not an HTTP/1.x answer: \"\(statusLine.prefix(80))\"") }
        var headers = [(name: String, value: String)]()
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return Response(status: status, headers: headers)
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
