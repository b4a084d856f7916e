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
    @Option(help: "Seconds to wait for each answer (1 to 300).") var timeout: Double = 10

    func validate() throws {
        guard timeout >= 1, timeout <= 300 else { throw ValidationError("--timeout must be 1 to 300 seconds") }
    }

    func run() throws {
        _ = try ProviderURL.check(issuer, what: "--issuer")
        let folder = (out as NSString).deletingLastPathComponent
        guard FileManager.default.isWritableFile(atPath: folder.isEmpty ? "." : folder) else {
            throw UsageError("cannot write in the folder of --out \(out)")
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
            jwksURL = try ProviderURL.check(jwksURIText, what: "\(discoveryURL): jwks_uri")
        } catch {
            throw FetchFailure(error.description)
        }
        let document = try client.jsonObject(jwksURL)
        guard let published = document["keys"] as? [Any] else {
            throw FetchFailure("\(jwksURL): expected a JWKS object {\"keys\": [...]}")
        }

        let kept = try signatureKeys(published, source: jwksURL.absoluteString)
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

        let ids = kept.map { ($0["kid"] as? String).map { "\"\($0)\"" } ?? "(no kid)" }.joined(separator: ", ")
        if FileManager.default.contents(atPath: out) == bytes {
            print("\(out): unchanged, \(kept.count) key(s): \(ids)")
            return
        }
        try AtomicFile.write(bytes, to: out)
        print("\(out): wrote \(kept.count) key(s) from \(jwksURL): \(ids)")
    }

    /// The published keys that may verify tokens, each checked alone as the module would load it.
    /// Private key material anywhere refuses the whole answer: that provider is leaking its keys.
    private func signatureKeys(_ published: [Any], source: String) throws -> [[String: Any]] {
        var kept = [[String: Any]]()
        for (index, element) in published.enumerated() {
            guard let jwk = element as? [String: Any] else {
                throw FetchFailure("\(source): key #\(index + 1) is not an object")
            }
            let label = "\(source): key #\(index + 1)" + ((jwk["kid"] as? String).map { " (kid \"\($0)\")" } ?? "")
            let kty = jwk["kty"] as? String
            if kty != "oct", let member = ["d", "p", "q", "dp", "dq", "qi", "oth"].first(where: { jwk[$0] != nil }) {
                throw FetchFailure("\(label) holds private key material (\"\(member)\"); refusing the provider's keys")
            }
            let reason: String? =
                if kty == "oct" {
                    "a symmetric key published for anyone to read can sign forged tokens"
                } else if let use = jwk["use"] as? String, use != "sig" {
                    "\"use\" is \"\(use)\""
                } else if let alg = jwk["alg"] as? String, JWSAlgorithm(name: alg) == nil {
                    "\"alg\" \"\(alg)\" is not a signature algorithm Gatehouse verifies"
                } else {
                    unusable(jwk, label: label)
                }
            if let reason {
                FileHandle.standardError.write(Data("gatehouse: warning: left out \(label): \(reason)\n".utf8))
            } else {
                kept.append(jwk)
            }
        }
        return kept
    }

    /// Why the module would refuse this key, or nil when it loads.
    private func unusable(_ jwk: [String: Any], label: String) -> String? {
        guard let bytes = try? JSONSerialization.data(withJSONObject: jwk) else { return "not serialisable" }
        do {
            _ = try KeySet.parse(Array(bytes), source: label)
            return nil
        } catch {
            return error.description
        }
    }
}

/// The provider answered, or failed to, in a way that leaves the key file as it was (exit 1).
struct FetchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Where keys may come from: https, or plain http only from this machine (a provider on loopback).
enum ProviderURL {
    static func check(_ text: String, what: String) throws(UsageError) -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host,
            !host.isEmpty
        else {
            throw UsageError("\(what) \"\(text)\" is not an absolute URL (expected https://host/…)")
        }
        guard url.user == nil, url.password == nil, url.query == nil, url.fragment == nil else {
            throw UsageError("\(what) \"\(text)\": expected no user, password, query or fragment")
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

/// Blocking GETs of JSON documents: no redirect away from https (or loopback http), at most 1 MiB.
struct HTTPGetter {
    let session: URLSession

    init(timeout: Double) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpAdditionalHeaders = ["Accept": "application/json", "User-Agent": "gatehouse-jwks-fetch"]
        session = URLSession(configuration: configuration, delegate: RedirectPolicy(), delegateQueue: nil)
    }

    func jsonObject(_ url: URL) throws -> [String: Any] {
        let data = try get(url)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FetchFailure("\(url): the answer is not a JSON object")
        }
        return object
    }

    private func get(_ url: URL) throws -> Data {
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: url) { data, response, error in
            box.set(data: data, response: response, error: error)
            done.signal()
        }.resume()
        done.wait()
        let (data, response, error) = box.get()
        if let error { throw FetchFailure("\(url): \(error.localizedDescription)") }
        guard let http = response as? HTTPURLResponse, let data else { throw FetchFailure("\(url): no HTTP answer") }
        guard http.statusCode == 200 else { throw FetchFailure("\(url): HTTP status \(http.statusCode), expected 200") }
        guard data.count <= 1 << 20 else { throw FetchFailure("\(url): the answer is larger than 1 MiB") }
        return data
    }
}

/// Follows a redirect only to a URL the keys could have come from in the first place.
private final class RedirectPolicy: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        let allowed = request.url.flatMap { try? ProviderURL.check($0.absoluteString, what: "redirect") } != nil
        completionHandler(allowed ? request : nil)
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Data?, URLResponse?, Error?) = (nil, nil, nil)
    func set(data: Data?, response: URLResponse?, error: Error?) { lock.withLock { value = (data, response, error) } }
    func get() -> (Data?, URLResponse?, Error?) { lock.withLock { value } }
}

/// Replaces a file so that readers see the old bytes or the new ones, never a mixture: a temporary
/// file beside it, written and flushed to disk, renamed over it, and the folder flushed too.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var mode: mode_t = 0o644
        var existing = stat()
        if stat(path, &existing) == 0 { mode = existing.st_mode & 0o777 }

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
        guard ok, fchmod(fd, mode) == 0, fsync(fd) == 0 else {
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
