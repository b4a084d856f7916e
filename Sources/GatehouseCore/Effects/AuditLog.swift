internal import COpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// The audit trail (docs/configuration.md, "gatehouse.audit-log, gatehouse.audit-events"): one JSON
/// object per decision, each line chained to the one before by `chain`, the hex SHA-256 of the
/// previous line's `chain` and this line's other fields (the line's bytes up to `,"chain"`, closed
/// with `}`). Editing, deleting, inserting or reordering a line breaks the chain from there on;
/// `gatehouse audit verify` finds where.
public enum AuditLog {
    /// The `chain` before the first line.
    public static let genesis = String(repeating: "0", count: 64)

    /// The record of one decision, without `chain`: compact JSON, every non-ASCII and control
    /// character escaped, in the order docs/configuration.md gives.
    static func record(_ decision: Decision, request: HTTPRequest, token: String?, identity: JSONObject?,
                       reportOnly: Bool, time: (seconds: Int64, milliseconds: Int)) -> String {
        var members: [(key: String, value: JSON)] = [
            ("ts", .string(timestamp(time))),
            (
                "decision",
                .string(decision.verdict.allowed && decision.diagnostics.wouldRefuse == nil ? "allow" : "deny")
            ),
            ("status", .integer(Int64(decision.diagnostics.wouldRefuse ?? decision.verdict.status))),
            ("reason", .string(decision.verdict.reason.rawValue)),
            ("rule", .string(decision.verdict.rule)),
            ("method", .string(request.method)),
            ("host", .string(request.host)),
            ("path", .string(request.path)),
            ("remote_ip", .string(request.remoteIP)),
            ("sub", identity?["sub"] ?? .null),
            ("iss", identity?["iss"] ?? .null),
        ]
        if case .string(let jti)? = identity?["jti"] {
            members.append(("jti", .string(jti)))
        } else {
            members.append(("token_sha256", token.map { .string(sha256Hex(Array($0.utf8))) } ?? .null))
        }
        members.append(("mode", .string(reportOnly ? "report-only" : "enforce")))
        return JSON.object(JSONObject(members: members)).serialized
    }

    /// The line to write after `previous`, and its chain.
    static func chained(_ record: String, after previous: String) -> (line: String, chain: String) {
        let chain = sha256Hex(Array((previous + record).utf8))
        return (String(record.dropLast()) + ",\"chain\":\"\(chain)\"}", chain)
    }

    /// The chain of a line, or nil when the line does not end with one.
    public static func chain(of line: Substring) -> Substring? {
        let suffixLength = 64 + 2  // hex, quote, brace
        let marker = ",\"chain\":\""
        guard line.utf8.count > suffixLength + marker.utf8.count, line.hasSuffix("\"}") else { return nil }
        let hex = line.utf8.dropLast(2).suffix(64)
        guard hex.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
              line.utf8.dropLast(suffixLength).suffix(marker.utf8.count).elementsEqual(marker.utf8) else { return nil }
        return Substring(hex)
    }

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case unchained(line: Int)
        case broken(line: Int)

        public var description: String {
            switch self {
            case .unchained(let line): "line \(line): no \"chain\" at its end (not an audit line, or cut short)"
            case .broken(let line):
                "line \(line): its chain does not follow from the line before: a line was edited, deleted, "
                    + "inserted or reordered here"
            }
        }
    }

    /// Checks a log whose first line follows `previous` (`genesis` for a log's very first
    /// line; the last `chain` of the file before it after a rotation); returns the number of
    /// lines.
    public static func verify(_ text: String, after previous: String = genesis) -> Result<Int, Problem> {
        var previous = Substring(previous)
        var count = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            count += 1
            guard let chain = chain(of: line) else { return .failure(.unchained(line: count)) }
            let record = String(decoding: line.utf8.dropLast(64 + 2 + ",\"chain\":\"".utf8.count), as: UTF8.self) + "}"
            guard sha256Hex(Array((previous + record).utf8)).utf8.elementsEqual(chain.utf8) else {
                return .failure(.broken(line: count))
            }
            previous = chain
        }
        return .success(count)
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        _ = bytes.withUnsafeBufferPointer { SHA256($0.baseAddress, $0.count, &digest) }
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }, as: UTF8.self)
    }

    /// RFC 3339 in UTC with milliseconds: 2026-11-22T04:05:10.123Z.
    static func timestamp(_ time: (seconds: Int64, milliseconds: Int)) -> String {
        let days = time.seconds >= 0 ? time.seconds / 86_400 : (time.seconds - 86_399) / 86_400
        let secondsOfDay = time.seconds - days * 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = time.milliseconds < 10 ? "00\(time.milliseconds)" : time.milliseconds < 100
            ? "0\(time.milliseconds)" : "\(time.milliseconds)"
        return "\(year)-\(two(month))-\(two(day))T\(two(secondsOfDay / 3600)):\(two(secondsOfDay / 60 % 60)):"
            + "\(two(secondsOfDay % 60)).\(millis)Z"
    }

    /// The wall clock, to the millisecond.
    static func now() -> (seconds: Int64, milliseconds: Int) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return (Int64(spec.tv_sec), Int(spec.tv_nsec / 1_000_000))
    }

    /// The chain of the last line of an existing log file, so a restarted lighttpd goes on
    /// with it; `genesis` when the file is absent or empty.
    static func lastChain(ofFile path: String) -> String {
        guard let file = fopen(path, "rb") else { return genesis }
        defer { fclose(file) }
        fseek(file, 0, SEEK_END)
        let size = ftell(file)
        let length = min(size, 16_384)
        guard length > 0 else { return genesis }
        fseek(file, size - length, SEEK_SET)
        var bytes = [UInt8](repeating: 0, count: length)
        let read = fread(&bytes, 1, length, file)
        let text = String(decoding: bytes.prefix(read), as: UTF8.self)
        guard let last = text.split(separator: "\n").last, let chain = chain(of: last) else { return genesis }
        return String(chain)
    }
}
