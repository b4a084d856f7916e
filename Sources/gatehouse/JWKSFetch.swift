import ArgumentParser
import Foundation
import GatehouseCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `gatehouse jwks fetch`: OpenID Connect discovery, then the provider's JWKS, written as the key
/// file `gatehouse.jwks` names. The module reloads that file by itself within a second of a change.
struct JWKS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jwks", abstract: "Work with gatehouse.jwks key files.", subcommands: [JWKSFetch.self])
}

struct JWKSFetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch an OpenID Connect provider's signing keys into a gatehouse.jwks file.",
        discussion: """
            Reads ISSUER/.well-known/openid-configuration, checks that its "issuer" is ISSUER byte for byte \
            (OpenID Connect Discovery 1.0 §4.3), fetches its "jwks_uri" and keeps the signature keys: keys \
            marked "use": "enc", keys for other (encryption) algorithms, symmetric ("oct") keys and keys \
            Gatehouse cannot use are left out, each with a warning. What remains is checked as \
            mod_gatehouse checks a key file, then written atomically (a temporary file in the same \
            folder, renamed over FILE), so the module never reads half a file. FILE is left untouched \
            when anything fails, and when the keys are unchanged. Run it from cron or a systemd timer.
            Exit status: 0 written or unchanged, 1 the provider's answer was refused or not reached, \
            2 bad arguments or FILE cannot be written.
            """)

    @Option(help: "The provider's issuer, exactly as its tokens' \"iss\" (https://, or http:// on loopback).")
    var issuer: String
    @Option(help: "The key file to write (gatehouse.jwks).") var out: String
    @Option(
        help: ArgumentHelp(
            "Also write the provider's endpoints here (gatehouse.provider-metadata, for browser sign-in).",
            valueName: "file"))
    var metadataOut: String?
    @Option(help: "Seconds to wait for each answer (1 to 300).") var timeout: Double = 10
    @Flag(
        help: """
            Machine-readable output: {"jwks": {"path", "written", "keys", "from"}, "metadata": {"path", \
            "written"} or null, "left_out": [...]}.
            """)
    var json = false

    func validate() throws {
        guard timeout >= 1, timeout <= 300 else { throw ValidationError("--timeout must be 1 to 300 seconds") }
    }

    func run() throws {
        _ = try ProviderURL.check(issuer, what: "--issuer")
        // Through a symbolic link to the file itself, which is what gatehouse.jwks may name.
        let target = URL(fileURLWithPath: out).resolvingSymlinksInPath().path
        guard FileManager.default.isWritableFile(atPath: (target as NSString).deletingLastPathComponent) else {
            throw UsageError("cannot write in the folder of --out \(target)")
        }
        let client = HTTPGetter(timeout: timeout)

        // OpenID Connect Discovery 1.0 §4: a terminating "/" of the issuer is removed before appending.
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        guard let discoveryURL = URL(string: base + "/.well-known/openid-configuration") else {
            throw UsageError("--issuer \"\(issuer)\" cannot take /.well-known/openid-configuration")
        }
        let metadata = try client.jsonObject(discoveryURL)
        guard let named = metadata["issuer"] as? String else {
            throw FetchFailure("\(discoveryURL): no \"issuer\" string in the discovery document")
        }
        guard Array(named.utf8) == Array(issuer.utf8) else {
            throw FetchFailure(
                "\(discoveryURL) names the issuer \"\(named)\", not \"\(issuer)\"; tokens carry the provider's "
                    + "own value in \"iss\", so use --issuer \"\(named)\" if that provider is the one meant")
        }
        guard let jwksURIText = metadata["jwks_uri"] as? String else {
            throw FetchFailure("\(discoveryURL): no \"jwks_uri\" string in the discovery document")
        }
        let jwksURL: URL
        do {
            jwksURL = try ProviderURL.check(jwksURIText, what: "\(discoveryURL): jwks_uri", query: true)
        } catch {
            throw FetchFailure(error.description)
        }
        let document = try client.jsonObject(jwksURL)
        guard let published = document["keys"] as? [Any] else {
            throw FetchFailure("\(jwksURL): expected a JWKS object {\"keys\": [...]}")
        }

        let (kept, leftOut) = try signatureKeys(published, source: jwksURL.absoluteString)
        guard !kept.isEmpty else { throw FetchFailure("\(jwksURL): no signature key Gatehouse can use") }
        let bytes =
            try JSONSerialization.data(
                withJSONObject: ["keys": kept], options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            ) + Data("\n".utf8)
        do {
            _ = try KeySet.parse(Array(bytes), source: jwksURL.absoluteString)
        } catch {
            throw FetchFailure("\(error)")
        }

        let metadataWritten = try metadataOut.map {
            try saveMetadata(metadata, to: $0, source: discoveryURL.absoluteString)
        }
        let written = FileManager.default.contents(atPath: target) != bytes
        if written { try AtomicFile.write(bytes, to: target) }
        let kids = kept.map { $0["kid"] as? String }
        if json {
            let keys = JSON.array(kids.map { $0.map(JSON.string) ?? .null })
            var metadataReport = JSON.null
            if let metadataOut, let metadataWritten {
                metadataReport = .object(
                    JSONObject(members: [("path", .string(metadataOut)), ("written", .bool(metadataWritten))]))
            }
            let members: [(key: String, value: JSON)] = [
                (
                    "jwks",
                    .object(
                        JSONObject(members: [
                            ("path", .string(out)), ("written", .bool(written)), ("keys", keys),
                            ("from", .string(jwksURL.absoluteString)),
                        ]))
                ),
                ("metadata", metadataReport), ("left_out", .array(leftOut.map(JSON.string))),
            ]
            print(JSON.object(JSONObject(members: members)).serialized)
            return
        }
        if let metadataOut, let metadataWritten {
            print("\(metadataOut): \(metadataWritten ? "wrote the provider's endpoints" : "unchanged")")
        }
        let ids = kids.map { $0.map { "\"\($0)\"" } ?? "(no kid)" }.joined(separator: ", ")
        print(
            written
                ? "\(out): wrote \(kept.count) key(s) from \(jwksURL): \(ids)"
                : "\(out): unchanged, \(kept.count) key(s): \(ids)")
    }

    /// The endpoints browser sign-in uses, checked as the module checks them when it loads them.
    /// Returns whether the file was written (false: it held these endpoints already).
    private func saveMetadata(_ metadata: [String: Any], to path: String, source: String) throws -> Bool {
        let names = ["issuer", "authorization_endpoint", "token_endpoint", "end_session_endpoint", "jwks_uri"]
        var kept = [String: String]()
        for name in names { if let value = metadata[name] as? String { kept[name] = value } }
        let bytes =
            try JSONSerialization.data(
                withJSONObject: kept, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            + Data("\n".utf8)
        do {
            _ = try ProviderMetadata.parse(Array(bytes), source: source)
        } catch {
            throw FetchFailure(error.description)
        }
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        if FileManager.default.contents(atPath: target) == bytes { return false }
        try AtomicFile.write(bytes, to: target)
        return true
    }

    /// The published keys that may verify tokens, by the module's own rule (KeySet.accept). Private
    /// key material anywhere refuses the whole answer: that provider is leaking its keys. Returns the
    /// keys kept and why each other one was left out (also a warning on standard error).
    private func signatureKeys(_ published: [Any], source: String) throws -> ([[String: Any]], [String]) {
        var kept = [[String: Any]]()
        var leftOut = [String]()
        for (index, element) in published.enumerated() {
            guard let jwk = element as? [String: Any], let bytes = try? JSONSerialization.data(withJSONObject: jwk),
                case .success(.object(let object)) = JSON.parse(Array(bytes))
            else {
                throw FetchFailure("\(source): key #\(index + 1) is not an object")
            }
            let label = "\(source): key #\(index + 1)" + ((jwk["kid"] as? String).map { " (kid \"\($0)\")" } ?? "")
            let acceptance: KeySet.Acceptance
            do {
                acceptance = try KeySet.accept(object, label: label, published: true)
            } catch {
                throw FetchFailure("\(error); refusing the provider's keys")
            }
            switch acceptance {
            case .key: kept.append(jwk)
            case .skipped(let reason):
                leftOut.append("\(label): \(reason)")
                FileHandle.standardError.write(Data("gatehouse: warning: left out \(label): \(reason)\n".utf8))
            }
        }
        return (kept, leftOut)
    }
}

/// The provider answered, or failed to, in a way that leaves the key file as it was (exit 1).
struct FetchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Where keys may come from: https, or plain http only from this machine (a provider on loopback).
enum ProviderURL {
    /// An issuer has no query (OpenID Connect Discovery 1.0 §3); a `jwks_uri` may have one.
    static func check(_ text: String, what: String, query: Bool = false) throws(UsageError) -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host,
            !host.isEmpty
        else {
            throw UsageError("\(what) \"\(text)\" is not an absolute URL (expected https://host/…)")
        }
        guard url.user == nil, url.password == nil, query || url.query == nil, url.fragment == nil else {
            throw UsageError(
                "\(what) \"\(text)\": expected no user, password, \(query ? "" : "query ")or fragment")
        }
        switch scheme {
        case "https": return url
        case "http" where isLoopback(host): return url
        case "http":
            throw UsageError(
                "\(what) \"\(text)\": http:// is accepted only for a provider on this machine "
                    + "(localhost, 127.0.0.0/8, ::1); keys fetched over plain http could be anyone's")
        default: throw UsageError("\(what) \"\(text)\": expected an https:// URL")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}

/// Blocking GETs of JSON documents, one at a time. A redirect is followed only to where a provider
/// URL may point, and never from https to plain http; reading stops past 1 MiB.
final class HTTPGetter: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private static let limit = 1 << 20
    private var session: URLSession!
    private let lock = NSLock()
    private var body = Data()
    private var tooLarge = false
    private var outcome: (response: URLResponse?, error: Error?) = (nil, nil)
    private let done = DispatchSemaphore(value: 0)

    init(timeout: Double) {
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpAdditionalHeaders = ["Accept": "application/json", "User-Agent": "gatehouse-jwks-fetch"]
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
    }

    func jsonObject(_ url: URL) throws -> [String: Any] {
        let data = try get(url)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FetchFailure("\(url): the answer is not a JSON object")
        }
        return object
    }

    private func get(_ url: URL) throws -> Data {
        lock.withLock {
            body = Data()
            tooLarge = false
        }
        session.dataTask(with: url).resume()
        done.wait()
        lock.lock()
        let (data, over, response, error) = (body, tooLarge, outcome.response, outcome.error)
        lock.unlock()
        if over { throw FetchFailure("\(url): the answer is larger than 1 MiB") }
        if let error { throw FetchFailure("\(url): \(error.localizedDescription)") }
        guard let http = response as? HTTPURLResponse else { throw FetchFailure("\(url): no HTTP answer") }
        guard http.statusCode == 200 else {
            throw FetchFailure("\(url): HTTP status \(http.statusCode), expected 200")
        }
        return data
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        let from = response.url?.scheme?.lowercased()
        let allowed =
            request.url.flatMap { try? ProviderURL.check($0.absoluteString, what: "redirect", query: true) }
            .map { from != "https" || $0.scheme?.lowercased() == "https" } ?? false
        completionHandler(allowed ? request : nil)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let over = lock.withLock {
            body.append(data)
            tooLarge = body.count > Self.limit
            return tooLarge
        }
        if over { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.withLock { outcome = (task.response, error) }
        done.signal()
    }
}

/// Replaces a file so that readers see the old bytes or the new ones, never a mixture: a temporary
/// file beside it, written and flushed to disk, renamed over it, and the folder flushed too.
/// `path` is the file itself, not a symbolic link to it (the rename would replace the link).
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var existing = stat()
        let replacing = stat(path, &existing) == 0

        var template = Array("\(folder)/.\(url.lastPathComponent).XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw UsageError("cannot create a temporary file in \(folder): \(errnoText())") }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var written = false
        defer { if !written { unlink(temporary) } }
        let ok = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let count = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
        // The old file's mode, owner and group: lighttpd reloads keys after dropping its privileges.
        guard ok, fchmod(fd, replacing ? existing.st_mode & 0o777 : 0o644) == 0 else {
            let reason = errnoText()
            close(fd)
            throw UsageError("cannot write \(temporary): \(reason)")
        }
        if replacing && fchown(fd, existing.st_uid, existing.st_gid) != 0 {
            FileHandle.standardError.write(
                Data(
                    "gatehouse: warning: \(path) gets this user's owner and group, not its old ones (\(errnoText()))\n"
                        .utf8))
        }
        guard fsync(fd) == 0 else {
            let reason = errnoText()
            close(fd)
            throw UsageError("cannot write \(temporary): \(reason)")
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            throw UsageError("cannot rename \(temporary) to \(path): \(errnoText())")
        }
        written = true
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY)
        if folderFD >= 0 {
            fsync(folderFD)
            close(folderFD)
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
