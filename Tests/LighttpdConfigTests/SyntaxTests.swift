import Testing

@testable import LighttpdConfig

/// Values as lighttpd's parser builds them: strings and their one escape, integers, arrays, variables,
/// `+` and the assignment operators.
@Suite struct SyntaxTests {
    /// (configuration, key, value as ConfigValue prints it)
    @Test(arguments: [
        (#"x = "plain""#, "var.x", #""plain""#),
        (#"x = "say \"hi\"""#, "var.x", #""say "hi"""#),
        (#"x = "back\slash \n stays""#, "var.x", #""back\slash \n stays""#),
        ("x = \"two\nlines\"", "var.x", "\"two\nlines\""),
        ("x = 42 # a comment", "var.x", "42"),
        ("x = 007", "var.x", "7"),
        ("x = 3000000000", "var.x", "-1294967296"),  // a C int, as lighttpd keeps it
        (#"x = "enable""#, "var.x", #""enable""#),  // booleans are just strings
        ("server.port = 80", "server.port", "80"),
        (#"x = "a" + "b" + "c""#, "var.x", #""abc""#),
        (#"x = "port-" + 8080"#, "var.x", #""port-8080""#),
        (#"x = 7 + "-seven""#, "var.x", #""7-seven""#),
        ("x = 40 + 2", "var.x", "42"),
        ("x = 2147483647 + 1", "var.x", "-2147483648"),
        (#"base = "/srv""# + "\n" + #"x = base + "/api""#, "var.x", #""/srv/api""#),
        (#"var.base = "/srv""# + "\n" + #"x = var.base"#, "var.x", #""/srv""#),
        (#"server.name = "a""# + "\n" + "x = server.name", "var.x", #""a""#),  // any key is a variable
        ("x = env.GATEHOUSE_TEST_LANG", "var.x", #""de-DE""#),
        (#"x = ( "a", "b" )"#, "var.x", #"("a", "b")"#),
        (#"x = ( "k" => "v", "n" => 1 )"#, "var.x", #"("k" => "v", "n" => 1)"#),
        (#"x = ( 1 => "one" )"#, "var.x", #"("1" => "one")"#),
        (#"x = ( "a", , "b", )"#, "var.x", #"("a", "b")"#),
        ("x = ()", "var.x", "()"),
        ("x = (\n  \"a\", # one\n  \"b\"\n)", "var.x", #"("a", "b")"#),
        (#"x = ( "o" => ( "i" => ( "a", 1 ) ) )"#, "var.x", #"("o" => ("i" => ("a", 1)))"#),
        (#"x = ( "a" ) + ( "b" )"#, "var.x", #"("a", "b")"#),
        (#"x = "a""# + "\n" + #"x += "b""#, "var.x", #""ab""#),
        ("x = 1\nx += 2", "var.x", "3"),
        (#"x = ( "a" )"# + "\n" + #"x += ( "b" => "c" )"#, "var.x", #"("a", "b" => "c")"#),
        (#"x = ( "k" => "v" )"# + "\n" + #"x += ( "k" => "v" )"#, "var.x", #"("k" => "v")"#),
        (#"x += "first""#, "var.x", #""first""#),
        ("x = 1\nx := 2", "var.x", "2"),
        ("x := 5", "var.x", "5"),
        ("a = 1 b = 2", "var.b", "2"),  // lighttpd needs no line break between assignments
        (#"x = "a" +"# + "\n" + #"  "b""#, "var.x", #""ab""#),  // a line break after + is dropped
        ("x = \"a\"\n+ \"b\"", "var.x", #""a""#),  // ... but one before + ends the assignment
        ("x\u{a0}= 1", "var.x", "1"),  // U+00A0 counts as a space
        ("x = 1, y = 2", "var.y", "2"),  // a comma outside parentheses is nothing
    ])
    func values(_ text: String, _ key: String, _ expected: String) throws {
        let config = try read(text)
        #expect(value(config, key) == expected)
    }

    /// Configurations lighttpd refuses, with its message.
    @Test(arguments: [
        ("x = 1\nx = 2", "Duplicate config variable in conditional 0 global: var.x"),
        (
            "Gatehouse.Realm = \"a\"\ngatehouse.realm = \"b\"",
            "Duplicate config variable in conditional 0 global: gatehouse.realm"
        ),
        ("x = 1\nx += \"s\"\nx = 3", "Duplicate config variable in conditional 0 global: var.x"),
        (
            #"$HTTP["url"] == "/a" { k.v = 1 k.v = 2 }"#,
            #"Duplicate config variable in conditional 1 global / $HTTP["url"] == "/a": k.v"#
        ),
        (#"x = ( "a" => 1, "A" => 2 )"#, "Error: duplicate array-key: A. Please get rid of the duplicate entry."),
        (#"x = ( "k" => "v" )"# + "\n" + #"x += ( "k" => "w" )"#, "Duplicate array-key 'k'"),
        (#"x = "a" + ( "b" )"#, "data type mismatch, cannot merge"),
        ("x = nope", "Undefined config variable: var.nope"),
        ("x = env.GATEHOUSE_UNSET", "Undefined env variable: GATEHOUSE_UNSET"),
        ("env.X = \"1\"", "Setting env variable is not supported in conditional 0 global: env.X"),
        ("env.X += \"1\"", "Appending env variable is not supported in conditional 0 global: env.X"),
        ("x = 99999999999999999999", "error parsing number: '99999999999999999999'"),
        (#"x = "unterminated"#, "missing closing quote"),
        (#"x = ( "a" = "b" )"#, "use => for assignments in arrays"),
        ("x : 1", "unexpected character ':'"),
        ("x = !1", "unexpected exclamation-marks: !"),
        (#"$HTTP["url"] =* "x" {}"#, "only == =~ =^ =$ are allowed in the condition"),
        (#"$HTTP["url"] !^ "x" {}"#, "only !~ and != are allowed in the condition"),
        (#"$HTTP["url"] < "x" {}"#, "invalid character in condition"),
        ("x = 1 )", "close-parens seen open-parens"),
        ("x = @", "invalid character in variable name"),
        (#"x = ( "a" ) => "b""#, "invalid character in variable name"),  // "=" then ">" outside parentheses
        (#"x = ( ( "a" ) => "b" )"#, "operand must be string"),
        (#"include ( "a" )"#, "operand must be string"),
        (#"$HTTP["url"] == "/a" {"#, "parser failed"),
        ("x = ", "parser failed"),
        (#"global { $HTTP["url"] == "/" { } }"#, "Cannot use conditionals inside a global { ... } block"),
    ])
    func refused(_ text: String, _ message: String) {
        let error = refusal(text)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func errorsNameTheirPlace() throws {
        let error = try #require(refusal("a = 1\n  b = 2\n  b = 3\n"))
        #expect(error.location.file == fixture("inline.conf"))
        #expect((error.location.line, error.location.column) == (3, 3))
        #expect(error.description == "\(fixture("inline.conf")):3:3: \(error.message)")
        let string = try #require(refusal("x = 1\ny = \"a\" + \"open"))
        #expect((string.location.line, string.location.column) == (2, 11))
    }

    @Test func locationsFollowMultiLineStrings() throws {
        let config = try read("a = \"one\ntwo\"\n  b = 1\n")
        let b = try #require(config.contexts[0].directives.first { $0.key == "var.b" })
        #expect((b.location.line, b.location.column) == (3, 3))
    }

    /// What lighttpd's parser silently drops is reported as a warning, and otherwise ignored as lighttpd does.
    @Test(arguments: [
        ("x = 1 ]", "']'", "var.x", "1"),
        ("x = = 1", "'='", "var.x", "1"),
        ("x = \"a\"\n+ \"b\"", "'+'", "var.x", #""a""#),
        ("} x = 1", "'}'", "var.x", "1"),
    ])
    func droppedTokensAreWarnings(_ text: String, _ token: String, _ key: String, _ expected: String) throws {
        let config = try read(text)
        #expect(value(config, key) == expected)
        #expect(config.warnings.contains { $0.message.contains("ignores the unexpected \(token)") })
    }

    @Test func aRepeatedArrayKeyWithTheSameValueIsAWarning() throws {
        let config = try read(#"x = ( "k" => "v" )"# + "\n" + #"x += ( "K" => "v", "n" => 1 )"#)
        #expect(value(config, "var.x") == #"("k" => "v", "n" => 1)"#)
        #expect(config.warnings.map(\.message) == ["Duplicate array-key 'K' (same value: lighttpd keeps one)"])
        #expect(config.warnings.first?.location.line == 2)
    }

    @Test func aNumberThatDoesNotFitAnIntIsAWarning() throws {
        let config = try read("x = 4294967296\ny = 2147483647\n")
        #expect(value(config, "var.x") == "0")
        #expect(
            config.warnings.map(\.message) == [
                "4294967296 does not fit lighttpd's 32-bit integers: lighttpd reads it as 0"
            ])
        #expect(config.warnings.first?.location.line == 1)
    }

    @Test func aBraceOnTheNextLineIsFine() throws {
        let config = try read("$HTTP[\"url\"] == \"/a\"\n{\n    k.v = 1\n}\nelse\n{\n    k.v = 2\n}\n")
        #expect(config.warnings.isEmpty)
        #expect(config.contexts.map(\.condition) == [nil, #"$HTTP["url"] == "/a""#, "else"])
    }

    @Test func lighttpdsOwnVariables() throws {
        let config = try read("x = var.PID\ny = var.CWD")
        #expect(value(config, "var.x") != nil)
        #expect(value(config, "var.y")?.isEmpty == false)
    }

    @Test func aNameRightAtTheEndOfTheFileIsRefusedAsByLighttpd() {
        #expect(throws: LighttpdConfigError.self) { try LighttpdConfig.parse("x = 1\ny = x", environment: [:]) }
        #expect(throws: Never.self) { try LighttpdConfig.parse("x = 1\ny = x\n", environment: [:]) }
    }

    @Test func aNULByteEndsTheFileWithAWarning() throws {
        let config = try read("x = 1\n\u{0}y = 2\n")
        #expect(value(config, "var.y") == nil)
        #expect(config.warnings.first?.message.contains("stray NUL") == true)
    }
}
