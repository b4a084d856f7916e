import Testing

@testable import GatehouseCore

@Suite("The audit log's hash chain")
struct AuditLogTests {
    static func log(_ count: Int) -> [String] {
        var previous = AuditLog.genesis
        return (0..<count).map { index in
            let record = "{\"ts\":\"2026-11-22T04:00:0\(index).000Z\",\"decision\":\"deny\",\"status\":401}"
            let (line, chain) = AuditLog.chained(record, after: previous)
            previous = chain
            return line
        }
    }

    @Test func anIntactLogVerifies() {
        #expect(AuditLog.verify(AuditLogTests.log(5).joined(separator: "\n") + "\n") == .success(5))
    }

    @Test func editingDeletingInsertingOrReorderingALineIsFoundWhereItHappened() {
        var lines = AuditLogTests.log(5)
        var edited = lines
        edited[2] = edited[2].replacingOccurrences(of: "401", with: "200")
        #expect(AuditLog.verify(edited.joined(separator: "\n")) == .failure(.broken(line: 3)))
        var deleted = lines
        deleted.remove(at: 1)
        #expect(AuditLog.verify(deleted.joined(separator: "\n")) == .failure(.broken(line: 2)))
        var inserted = lines
        inserted.insert(lines[0], at: 3)
        #expect(AuditLog.verify(inserted.joined(separator: "\n")) == .failure(.broken(line: 4)))
        lines.swapAt(3, 4)
        #expect(AuditLog.verify(lines.joined(separator: "\n")) == .failure(.broken(line: 4)))
        #expect(AuditLog.verify("not an audit line\n") == .failure(.unchained(line: 1)))
    }

    @Test(arguments: [
        (Int64(0), 0, "1970-01-01T00:00:00.000Z"), (1_795_320_310, 123, "2026-11-22T04:05:10.123Z"),
        (951_782_400, 7, "2000-02-29T00:00:00.007Z"), (-1, 999, "1969-12-31T23:59:59.999Z"),
    ])
    func timestampsAreRFC3339InUTC(_ seconds: Int64, _ milliseconds: Int, _ text: String) {
        #expect(AuditLog.timestamp((seconds, milliseconds)) == text)
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
