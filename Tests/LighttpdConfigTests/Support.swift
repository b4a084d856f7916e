import Foundation
import Testing

@testable import LighttpdConfig

/// Where the fixtures are, whatever the working directory of the test run.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

func fixture(_ path: String) -> String {
    fixtures.appendingPathComponent(path).path
}

/// The environment both lighttpd and the reader see in cross-checks.
let testEnvironment = ["GATEHOUSE_TEST_LANG": "de-DE", "PATH": "/usr/bin:/bin"]

/// Parses configuration text as a file ending in a newline; the file name anchors relative includes in
/// `Fixtures/`.
func read(
    _ text: String, file: String = fixture("inline.conf"), allowShell: Bool = false
)
    throws(LighttpdConfigError) -> LighttpdConfig
{
    try LighttpdConfig.parse(text + "\n", path: file, allowShell: allowShell, environment: testEnvironment)
}

/// The error a configuration is refused with, or nil.
func refusal(_ text: String, allowShell: Bool = false) -> LighttpdConfigError? {
    do {
        _ = try read(text, allowShell: allowShell)
        return nil
    } catch {
        return error
    }
}

/// The value of `key` in the context holding it (the first one found).
func value(_ config: LighttpdConfig, _ key: String, context: Int = 0) -> String? {
    config.contexts[context].directives.last { $0.key == key }.map { $0.value.description }
}

/// The values a request gets for keys with `prefix`: lower-cased key → value as ConfigValue prints it.
func effective(
    _ config: LighttpdConfig, _ request: RequestFacts, prefix: String = "gatehouse."
)
    -> [String: String]
{
    Dictionary(
        uniqueKeysWithValues: config.directives(for: request, prefix: prefix)
            .map { ($0.key, $0.value.description) })
}
