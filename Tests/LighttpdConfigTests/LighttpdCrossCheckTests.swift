import Foundation
import Testing

@testable import LighttpdConfig

/// The reader against the real lighttpd 1.4.69: the same parsed configuration as `lighttpd -p` prints.
@Suite(.enabled(if: LighttpdBinary.isInstalled, "needs /usr/sbin/lighttpd"))
struct LighttpdCrossCheckTests {
    @Test(arguments: ["syntax/everything.conf", "include/main.conf", "runtime/standalone.conf"])
    func printsWhatLighttpdPrints(_ file: String) throws {
        let lighttpd = try LighttpdBinary.printed(fixture(file))
        #expect(lighttpd.status == 0, "lighttpd refused \(file): \(lighttpd.errors)")
        let config = try LighttpdConfig.load(path: fixture(file), environment: testEnvironment)
        #expect(LighttpdBinary.withoutProcessVariables(config.printed) == lighttpd.output)
        #expect(lighttpd.output.count > 200)
    }
}

/// Configurations lighttpd refuses (`lighttpd -tt` fails) are refused by the reader too, and odd ones it
/// accepts are read the same (`lighttpd -p` prints the same).
@Suite(.enabled(if: LighttpdBinary.isInstalled, "needs /usr/sbin/lighttpd"))
struct LighttpdAgreementTests {
    static func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("gatehouse-\(UUID().uuidString).conf").path
        try ("server.document-root = \"/tmp\"\n" + text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: [
        "x = 1\nx = 2",
        #"x = ( "a" => 1, "A" => 2 )"#,
        #"x = ( "k" => "v" )"# + "\nx += ( \"k\" => \"w\" )",
        #"x = "a" + ( "b" )"#,
        "x = nope",
        "x = env.GATEHOUSE_UNSET",
        "env.X = \"1\"",
        "x = 99999999999999999999",
        #"x = "unterminated"#,
        #"x = ( "a" = "b" )"#,
        #"$HTTP["url"] =* "x" {}"#,
        #"$HTTP["url"] == "/a" {"#,
        "x = ",
        #"$HTTP["remoteip"] == "10.0.0.300" {}"#,
        #"$HTTP["remoteip"] =^ "10." {}"#,
        #"$HTTP["host"] == "a:b" {}"#,
        #"$HTTP["url"] =~ "(" {}"#,
        #"$HTTP["url"] =~ "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)" {}"#,
        #"$HTTP["nope"] == "x" {}"#,
        #"$HTTP["URL"] == "x" {}"#,
        #"$HTTP["url"] == 5 {}"#,
        #"$SERVER["socket"] =~ "^:80$" {}"#,
        #"x = ( "k" => "v" )"# + "\nx += ( \"k\" => \"v\", \"K\" => \"v\" )",
        #"$HTTP["url"] == "/a" { } else { } else { }"#,
        #"$HTTP["url"] != "/a" { }"# + "\n" + #"$HTTP["url"] == "/a" { } else { }"#,
        #"$HTTP["url"] == "/b" { }"# + "\n" + #"$HTTP["url"] == "/a" { } else $HTTP["url"] == "/b" { }"#,
        #"include "/nonexistent/gatehouse.conf""#,
        #"include_shell "exit 3""#,
    ])
    func refusedByBoth(_ text: String) throws {
        let path = try Self.write(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lighttpd = try LighttpdBinary.run(["-tt", "-f", path])
        #expect(lighttpd.status != 0, "lighttpd accepted it: \(lighttpd.output)")
        #expect(throws: LighttpdConfigError.self) {
            try LighttpdConfig.load(path: path, allowShell: true, environment: testEnvironment)
        }
    }

    @Test(arguments: [
        "a = 1 b = 2\nc = \"x\" +\n \"y\"\nd = \"x\"\n + \"y\"",
        "x = 1 ]\ny = = 2\n} z = 3",
        "$HTTP[\"url\"] == \"/a\"\n{\n x.y = 1\n}\nelse\n\n{\n x.y = 2\n}",
        #"$HTTP["url"] =^ "/m/" { a.b = 1 }"# + "\n" + #"$HTTP["url"] =~ "^/m/" { a.c = 2 }"# + "\n"
            + #"$HTTP["url"] =^ "/M/" { a.d = 3 }"#,
        #"$HTTP["url"] == "/a" { } else { $HTTP["host"] == "x" { a.b = 1 } }"# + "\n"
            + #"$HTTP["url"] == "/b" { } else { $HTTP["host"] == "x" { a.c = 1 } }"#,
        #"$HTTP["url"] == "/a" { x.y = 1 } else { x.y = 2 }"# + "\n" + #"$HTTP["url"] != "/a" { x.z = 3 }"#,
        #"$HTTP["url"] == "/a" { global { x.y = 1 } }"#,
        #"x = ( "k" => "v", "n" => 1 )"# + "\nx += ( \"K\" => \"v\", \"N\" => 1 )",
        "a = 1\nb = 2\nc = 3\na += 10",
        "a = 1\nb = 2\na := 5",
        #"x = ( "a", "b" => "c", ( "n" ), 4, 5, 6 )"#,
        #"$HTTP["remoteip"] == "::ffff:10.0.0.1/104" { a.b = 1 } else $HTTP["remoteip"] == "[::1]" { a.b = 2 }"#,
        #"$HTTP["querystring"] == "q=%c3%a9" { a.b = 1 }"#,
        "x = \"a\" # \u{00a0}comment\ny\u{00a0}= 1",
        "include_shell \"cat \(fixture("include/shell-output.txt"))\"",
    ])
    func acceptedAndReadAlikeByBoth(_ text: String) throws {
        let path = try Self.write(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lighttpd = try LighttpdBinary.printed(path)
        #expect(lighttpd.status == 0, "lighttpd refused it: \(lighttpd.errors)")
        let config = try LighttpdConfig.load(path: path, allowShell: true, environment: testEnvironment)
        #expect(LighttpdBinary.withoutProcessVariables(config.printed) == lighttpd.output)
    }
}
