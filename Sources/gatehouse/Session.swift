import ArgumentParser
import Foundation
import GatehouseCore

/// `gatehouse session`: the key file of browser sign-in, and what a session cookie holds.
struct Session: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Session keys and cookies of browser sign-in (docs/browser-sign-in.md).",
        subcommands: [NewKey.self, Inspect.self])

    struct NewKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new-key",
            abstract: "Write a session key file (gatehouse.session-key-file): 32 random bytes, base64, mode 0600.",
            discussion: """
                --rotate puts a new key first in an existing file and keeps the others: the new key seals \
                from the next reload, the old ones still open the sessions they sealed. Remove an old key \
                once gatehouse.session-lifetime has passed.
                """)
        @Option(help: "The key file to write.") var out: String
        @Flag(help: "Replace an existing file.") var force = false
        @Flag(help: "Add a new first key to an existing file, keeping its keys.") var rotate = false
        @Flag(help: "Machine-readable output: {\"path\", \"keys\", \"rotated\"}.") var json = false

        func validate() throws {
            if force && rotate { throw ValidationError("give --force or --rotate, not both") }
        }

        func run() throws {
            let exists = FileManager.default.fileExists(atPath: out)
            var lines = [Self.newKey()]
            if exists {
                if rotate {
                    let keys: SessionKeys
                    do { keys = try SessionKeys.load(path: out) } catch { throw UsageError(error.description) }
                    guard keys.keys.count < SessionKeys.maximumCount else {
                        throw UsageError("\(out) holds \(keys.keys.count) keys already: remove the oldest first")
                    }
                    lines += keys.keys.map { Data($0).base64EncodedString() }
                } else if !force {
                    throw UsageError("\(out) exists: --rotate adds a key to it, --force replaces it")
                }
            } else if rotate {
                throw UsageError("--rotate: \(out) does not exist")
            }
            let text = Data((lines.joined(separator: "\n") + "\n").utf8)
            let temporary = out + ".tmp-\(getpid())"
            guard
                FileManager.default.createFile(
                    atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
                let handle = FileHandle(forWritingAtPath: temporary)
            else { throw UsageError("cannot write \(temporary)") }
            try handle.write(contentsOf: text)
            try handle.synchronize()
            try handle.close()
            guard rename(temporary, out) == 0 else {
                unlink(temporary)
                throw UsageError("cannot replace \(out): \(String(cString: strerror(errno)))")
            }
            if json {
                let members: [(key: String, value: JSON)] = [
                    ("path", .string(out)), ("keys", .integer(Int64(lines.count))), ("rotated", .bool(rotate)),
                ]
                print(JSON.object(JSONObject(members: members)).serialized)
            } else {
                print("\(out): \(lines.count == 1 ? "wrote a new key" : "a new first key, \(lines.count) keys in all")")
            }
        }

        static func newKey() -> String {
            var bytes = [UInt8](repeating: 0, count: SessionKeys.keyLength)
            guard let random = FileHandle(forReadingAtPath: "/dev/urandom") else { fatalError("no /dev/urandom") }
            let data = random.readData(ofLength: bytes.count)
            precondition(data.count == bytes.count, "short read from /dev/urandom")
            bytes = Array(data)
            return Data(bytes).base64EncodedString()
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a session cookie with a key file and print what it holds and when it ends.",
            discussion: "Exit code 0: it opens and has not ended; 1: it does not open, or it ended.")
        @Option(help: "The key file (gatehouse.session-key-file).") var keyFile: String
        @Option(
            parsing: .unconditional,  // a sealed value may begin with "-" (base64url)
            help: "The cookie's value (__Host-gatehouse=..., chunks joined), or - to read it from standard input.")
        var cookie: String
        @Option(help: "Unix time to judge expiry at (default: now).") var now: Int64?
        @Flag(help: "Machine-readable output.") var json = false

        func run() throws {
            let keys: SessionKeys
            do { keys = try SessionKeys.load(path: keyFile) } catch { throw UsageError(error.description) }
            let value = try SessionCookie.value(cookie)
            guard let session = SessionContents.open(value, keys: keys) else {
                print(
                    json
                        ? #"{"opens":false}"#
                        : "does not open with \(keyFile): tampered, truncated, or sealed with another key")
                throw ExitCode(1)
            }
            let at = now ?? Int64(Date().timeIntervalSince1970)
            let ended = session.ended(now: at)
            if json {
                let members: [(key: String, value: JSON)] = [
                    ("opens", .bool(true)), ("claims", .object(session.claims)), ("expires", .integer(session.expires)),
                    ("idle_deadline", .integer(session.idleDeadline)), ("has_id_token", .bool(session.idToken != nil)),
                    ("ended", ended.map(JSON.string) ?? .null),
                ]
                print(JSON.object(JSONObject(members: members)).serialized)
            } else {
                print("claims: \(JSON.object(session.claims).serialized)")
                print("expires: \(session.expires) (in \(session.expires - at) s)")
                print("idle deadline: \(session.idleDeadline) (in \(session.idleDeadline - at) s)")
                print("ID token for logout: \(session.idToken == nil ? "no" : "yes")")
                print(ended ?? "in force")
            }
            if ended != nil { throw ExitCode(1) }
        }
    }
}

/// A session cookie as given on the command line: its value, with or without the name.
enum SessionCookie {
    static func value(_ given: String) throws -> String {
        var text = given == "-" ? (readLine(strippingNewline: true) ?? "") : given
        text = text.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix(Cookies.session + "=") { text.removeFirst(Cookies.session.count + 1) }
        guard !text.isEmpty else { throw UsageError("--cookie: empty") }
        return text
    }
}
