#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 address, parsed and printed with `inet_pton()` / `inet_ntop()` as lighttpd does.
struct IPAddress: Sendable, Equatable {
    enum Family: Sendable { case v4, v6 }
    let family: Family
    /// 4 or 16 bytes, network order.
    let bytes: [UInt8]

    init?(_ text: String, family: Family) {
        var buffer = [UInt8](repeating: 0, count: family == .v4 ? 4 : 16)
        let ok = buffer.withUnsafeMutableBytes { inet_pton(family == .v4 ? AF_INET : AF_INET6, text, $0.baseAddress) }
        guard ok == 1 else { return nil }
        self.family = family
        self.bytes = buffer
    }

    /// A client address: IPv6 when it holds a colon, as lighttpd decides for its own addresses.
    init?(client text: String) {
        self.init(text, family: text.utf8.contains(UInt8(ascii: ":")) ? .v6 : .v4)
    }

    /// `inet_ntop()`'s canonical text.
    var text: String {
        var buffer = [CChar](repeating: 0, count: 64)
        var copy = bytes
        let result = copy.withUnsafeMutableBytes {
            inet_ntop(family == .v4 ? AF_INET : AF_INET6, $0.baseAddress, &buffer, socklen_t(buffer.count))
        }
        guard result != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private var isV4Mapped: Bool {
        family == .v6 && bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
    }

    /// `sock_addr_is_addr_eq()`: same family, same bytes (an IPv4 client never equals `::ffff:a.b.c.d`).
    func isSame(as other: IPAddress) -> Bool {
        family == other.family && bytes == other.bytes
    }

    /// `sock_addr_is_addr_eq_bits()` with `self` the configured network: the first `bits` bits agree.
    /// An IPv4 network also matches an IPv4-mapped IPv6 client, and an IPv4-mapped IPv6 network an IPv4
    /// client — where lighttpd 1.4.69 compares only the bits past the 96th (so `::ffff:0:0/96` is any IPv4).
    func contains(_ client: IPAddress, bits: Int) -> Bool {
        switch (family, client.family) {
        case (.v4, .v4):
            return prefixMatches(bytes, client.bytes, bits: min(bits, 32))
        case (.v4, .v6) where client.isV4Mapped:
            return prefixMatches(bytes, Array(client.bytes[12...]), bits: min(bits, 32))
        case (.v6, .v6):
            return prefixMatches(bytes, client.bytes, bits: min(bits, 128))
        case (.v6, .v4) where isV4Mapped:
            return prefixMatches(Array(bytes[12...]), client.bytes, bits: bits >= 128 ? 32 : max(0, bits - 96))
        default:
            return false
        }
    }

    private func prefixMatches(_ a: [UInt8], _ b: [UInt8], bits: Int) -> Bool {
        var remaining = bits
        var index = 0
        while remaining > 0 {
            if remaining >= 8 {
                guard a[index] == b[index] else { return false }
            } else {
                guard a[index] >> (8 - remaining) == b[index] >> (8 - remaining) else { return false }
            }
            remaining -= 8
            index += 1
        }
        return true
    }
}
