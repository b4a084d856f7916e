import Testing

@testable import GatehouseCore

@Suite("Key files read offline (the CLI): a missing file is a warning, never for the module")
struct OfflineKeysTests {
    @Test func aMissingKeyFileIsAWarningOfflineOnly() throws {
        for directive in [Directive.jwks, .hmacSecretFile] {
            #expect(throws: ConfigError.self) { try Setting.compile(directive, .string("/nonexistent/keys")) }
            let setting = try Setting.compile(directive, .string("/nonexistent/keys"), offline: true)
            #expect(setting.warnings.count == 1)
            #expect(setting.warnings.first?.hasPrefix("\(directive.name): cannot read /nonexistent/keys") == true)
            guard let source = setting.value as? KeySource else {
                Issue.record("no key source")
                continue
            }
            #expect(source.unreadable != nil && source.keys.keys.isEmpty)
        }
    }

    @Test func aKeyFileThatOpensMustStillLoad() {
        #expect(throws: ConfigError.self) { try Setting.compile(.jwks, .string("/etc/hostname"), offline: true) }
    }

    @Test func unreadableKeysAreNoMismatchWithTheAlgorithms() throws {
        var configuration = Configuration()
        configuration[.require] = try Setting.compile(.require, .list([("/", .string("authenticated"))]))
        configuration[.issuer] = try Setting.compile(.issuer, .string("https://idp.example/"))
        configuration[.audience] = try Setting.compile(.audience, .string("api"))
        configuration[.jwks] = try Setting.compile(.jwks, .string("/nonexistent/keys"), offline: true)
        #expect(configuration.problems().isEmpty)
    }
}
