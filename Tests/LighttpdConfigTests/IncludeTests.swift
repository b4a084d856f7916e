import Foundation
import Testing

@testable import LighttpdConfig

/// `include` (relative to the main file's directory, globs) and `include_shell` (refused unless allowed).
@Suite struct IncludeTests {
    @Test func includesResolveAgainstTheMainFilesDirectory() throws {
        let config = try LighttpdConfig.load(path: fixture("include/main.conf"), environment: testEnvironment)
        let global = effective(config, RequestFacts(path: "/"), prefix: "")
        #expect(global["gatehouse.issuer"] == #""main""#)
        #expect(global["gatehouse.audience"] == #""a-then-b""#)  // glob results in order
        #expect(global["gatehouse.mode"] == #""from-c""#)  // sub/nested.conf's include found beside main.conf
        #expect(global["var.x"] == #""from-x""# && global["var.y"] == #""from-y""#)  // {x,y}
        #expect(global["gatehouse.default"] == nil)
        let api = effective(config, RequestFacts(path: "/api/v1"))
        #expect(api["gatehouse.default"] == #""authenticated""#)  // included inside the condition's block
        let mode = try #require(config.contexts[0].directives.first { $0.key == "gatehouse.mode" })
        #expect(mode.location == SourceLocation(file: fixture("include/conf.d/c.inc"), line: 1, column: 1))
    }

    @Test(arguments: [
        ("include/missing.conf", "include file not found: \(fixture("include/conf.d/not-there.conf"))"),
        ("include/loop.conf", "nested more than 32 deep"),
        (
            "include/no-such-file.conf",
            "opening configfile \(fixture("include/no-such-file.conf")) failed: No such file or directory"
        ),
    ])
    func refusedIncludes(_ file: String, _ message: String) {
        #expect {
            _ = try LighttpdConfig.load(path: fixture(file), environment: testEnvironment)
        } throws: { error in
            (error as? LighttpdConfigError)?.message.contains(message) == true
        }
    }

    @Test func aRelativeMainPathAnchorsIncludesToo() throws {
        // "…/include/main.conf" written relative to the working directory: includes resolve against its
        // directory all the same.
        let relative = relativePath(to: fixture("include/main.conf"))
        #expect(!relative.hasPrefix("/"))
        let config = try LighttpdConfig.load(path: relative, environment: testEnvironment)
        #expect(effective(config, RequestFacts(path: "/"))["gatehouse.mode"] == #""from-c""#)
    }

    private func relativePath(to path: String) -> String {
        let from = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardized.pathComponents
        let to = URL(fileURLWithPath: path).standardized.pathComponents
        let common = zip(from, to).prefix { $0 == $1 }.count
        return (Array(repeating: "..", count: from.count - common) + to[common...]).joined(separator: "/")
    }

    @Test func includeShellIsRefusedByDefault() throws {
        let error = try #require(refusal(#"include_shell "echo 'x = 1'""#))
        #expect(error.message.hasPrefix(#"include_shell "echo 'x = 1'" refused"#))
        #expect((error.location.line, error.location.column) == (1, 1))
    }

    @Test func includeShellRunsWhenAllowed() throws {
        let config = try read(#"include_shell "printf 'gatehouse.realm = \"shell\"\n'""#, allowShell: true)
        let realm = try #require(config.contexts[0].directives.first { $0.key == "gatehouse.realm" })
        #expect(realm.value.description == #""shell""#)
        #expect(realm.location.file == #"printf 'gatehouse.realm = "shell"\n'"#)  // named after the command
    }

    @Test func includeShellRunsInTheMainFilesDirectory() throws {
        let config = try read(
            #"include_shell "cat conf.d/a.conf""#, file: fixture("include/inline.conf"),
            allowShell: true)
        #expect(value(config, "gatehouse.audience") == #""a""#)
    }

    @Test func includeShellFailuresAreErrors() throws {
        let error = try #require(refusal(#"include_shell "echo oops >&2; exit 3""#, allowShell: true))
        #expect(error.message == #"command "echo oops >&2; exit 3" exited non-zero: 3 (oops)"#)
    }
}
