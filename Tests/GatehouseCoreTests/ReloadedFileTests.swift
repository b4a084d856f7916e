import Foundation
import Testing

@testable import GatehouseCore

@Suite("Sign-in files read again when they change")
struct ReloadedFileTests {
    static func key(_ byte: UInt8) -> String { Data(repeating: byte, count: 32).base64EncodedString() + "\n" }

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path + ".new"))
        _ = rename(path + ".new", path)
    }

    @Test func aChangedFileIsReadAgainAndABrokenOneKeepsTheLastGood() throws {
        let path = NSTemporaryDirectory() + "gatehouse-reload-\(UUID().uuidString).keys"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.write(Self.key(1), to: path)
        let file = try ReloadedFile(
            path: path, load: { path throws(ConfigError) in try SessionKeys.load(path: path) },
            describe: { "\($0.keys.count) keys" })
        #expect(file.value.keys == [[UInt8](repeating: 1, count: 32)])
        #expect(file.reloadIfChanged() == nil)  // unchanged
        try Self.write(Self.key(2) + Self.key(1), to: path)
        #expect(file.reloadDescribed().flatMap { try? $0.get() } == "2 keys")
        #expect(file.value.keys.first == [UInt8](repeating: 2, count: 32))
        try Self.write("broken\n", to: path)
        guard case .failure(let error)? = file.reloadIfChanged() else {
            Issue.record("a broken file was not refused")
            return
        }
        #expect(error.description.contains("line 1"))
        #expect(file.value.keys.count == 2)  // the last good keys stay
        #expect(file.reloadIfChanged() == nil)  // refused once, not on every tick
        // the configuration loaded again in this process (a graceful restart) keeps them too
        let again = try ReloadedFile(
            path: path, load: { path throws(ConfigError) in try SessionKeys.load(path: path) },
            describe: { "\($0.keys.count) keys" })
        #expect(again.value.keys.count == 2 && again.refusal?.contains("line 1") == true)
    }
}
