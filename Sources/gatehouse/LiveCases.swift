import COpenSSL
import Foundation
import GatehouseCore
import LighttpdConfig

/// `gatehouse test --url`: each case sent as a real request to a running server, its token minted
/// from the case's claims with a test key, and the answer compared with what can be seen of the
/// expectation from outside: the decision, the status and the WWW-Authenticate header.
final class LiveCases {
    /// The statuses mod_gatehouse (or lighttpd, for a request it cannot read) refuses with (503: no
    /// verify thread free; 504: a token not verified in time); any other answer is a request let
    /// through, whatever the backend then said.
    static let refusals: Set = [400, 401, 403, 429, 503, 504]
    /// Seconds a minted token lives (its "exp"), unless the case's claims say otherwise.
    static let lifetime: Int64 = 300

    let url: String
    private let host: String
    private let port: String
    private let signing: DevSigningKey
    private let kid: String?
    private let policy: LoadedConfig?
    private let now: Int64?
    private let timeout: Int

    /// What became of one case.
    struct Result {
        var problems = [String]()
        /// Why the case was not sent (it needs what a client cannot choose).
        var skipped: String?
        /// The expectations the answer cannot show (the backend's headers and environment, …).
        var notChecked = [String]()
        var response: HTTPExchange.Response?

        var json: [(key: String, value: JSON)] {
            [
                ("skipped", skipped.map(JSON.string) ?? .null),
                (
                    "response",
                    response.map { answer in
                        .object(
                            JSONObject(members: [
                                ("status", .integer(Int64(answer.status))),
                                ("www_authenticate", answer.header("WWW-Authenticate").map(JSON.string) ?? .null),
                            ]))
                    } ?? .null
                ),
                ("not_checked", .array(notChecked.map(JSON.string))),
            ]
        }
    }

    /// `url`: http://host[:port], the server to send the cases to. `policy`: the configuration whose
    /// issuer, audience, token type and token source the minted tokens get (nil: only the claims).
    init(url: String, signingKey: String, kid: String?, policy: LoadedConfig?, now: Int64?, timeout: Int) throws {
        guard url.lowercased().hasPrefix("http://") else {
            throw UsageError(
                "--url \"\(url)\": expected http://host[:port] (https is not sent: use the server's plain port)")
        }
        var authority = url.dropFirst("http://".count)
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@"), !authority.contains("?") else {
            throw UsageError("--url \"\(url)\": expected http://host[:port], without a path (the cases give the paths)")
        }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let rest = authority[authority.index(after: close)...]
            port = rest.hasPrefix(":") ? String(rest.dropFirst()) : "80"
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = String(authority[authority.index(after: colon)...])
        } else {
            host = String(authority)
            port = "80"
        }
        guard let number = UInt16(port), number > 0 else { throw UsageError("--url \"\(url)\": bad port \"\(port)\"") }
        self.url = url
        guard let pem = FileManager.default.contents(atPath: signingKey) else {
            throw UsageError("--signing-key \(signingKey): cannot read")
        }
        signing = try DevSigningKey.load(pem: pem, path: signingKey)
        self.kid = kid
        self.policy = policy
        self.now = now
        self.timeout = timeout
    }

    deinit { EVP_PKEY_free(signing.pkey) }

    func run(_ test: JSONObject, name: String) throws -> Result {
        var result = Result()
        let request = try TestCases.request(test, name: name)
        let time = TestCases.time(of: test, default: now)
        if request.remoteIP != "127.0.0.1" {
            result.skipped = "needs client address \(request.remoteIP)"
        } else if request.scheme != "http" {
            result.skipped = "needs scheme \(request.scheme)"
        } else if let socket = request.serverSocket {
            result.skipped = "needs server socket \(socket)"
        } else if test["token"] != nil, let time {
            result.skipped = "decided at now=\(time): the server decides a given token at its own clock"
        }
        if result.skipped != nil { return result }

        var headers = request.headers
        var target = request.target
        if let claims = request.presented {
            let configuration = try self.configuration(for: request)
            let token = try mint(claims, configuration: configuration, time: time)
            switch configuration?.tokenSources.first ?? .authorization {
            case .authorization: headers.append(("Authorization", "Bearer " + token))
            case .header(let field): headers.append((field, token))
            case .cookie(let cookie): headers.append(("Cookie", "\(cookie)=\(token)"))
            case .query(let parameter): target += (target.contains("?") ? "&" : "?") + "\(parameter)=\(token)"
            }
        }
        let bytes: [UInt8]
        do {
            bytes = try Self.message(method: request.method, target: target, host: request.host, headers: headers)
        } catch let problem as RequestCase.Problem {
            result.problems = [problem.description]
            return result
        }
        let response: HTTPExchange.Response
        do {
            response = try HTTPExchange.send(bytes, host: host, port: port, timeout: timeout)
        } catch let unreachable as HTTPExchange.Unreachable {
            throw UsageError("--url \(url): \(unreachable)")
        } catch {
            result.problems = ["\(url): \(error)"]
            return result
        }
        result.response = response
        (result.problems, result.notChecked) = try Self.compare(response, with: test, name: name)
        return result
    }

    /// The configuration in force for the case's request (nil without --config, or for a request
    /// lighttpd refuses before any module).
    private func configuration(for request: RequestCase) throws -> Configuration? {
        guard let policy else { return nil }
        do {
            return try policy.configuration(for: try request.read(with: policy).facts)
        } catch is RequestRejected {
            return nil
        }
    }

    /// A token of the case's claims over "iss" (the first gatehouse.issuer), "aud" (the first
    /// gatehouse.audience), "iat", "nbf" and "exp" (now and now + 300 s). A case decided at a fixed
    /// "now" has its time claims moved by the clock's distance from it, so a token that had expired
    /// then has expired as long ago now.
    private func mint(_ claims: JSONObject, configuration: Configuration?, time: Int64?) throws -> String {
        let clock = Int64(Date().timeIntervalSince1970)
        let shift = time.map { clock - $0 } ?? 0
        var payload: [String: Any] = ["iat": clock, "nbf": clock, "exp": clock + Self.lifetime]
        if let configuration {
            let requirements = configuration.tokenRequirements
            if configuration[.issuer] != nil, let issuer = requirements.issuers?.first { payload["iss"] = issuer }
            if configuration[.audience] != nil, let audience = requirements.audiences?.first {
                payload["aud"] = audience
            }
        }
        for member in claims.members {
            if ["iat", "nbf", "exp", "auth_time"].contains(member.key), case .integer(let value) = member.value {
                payload[member.key] = value + shift
                continue
            }
            payload[member.key] = try JSONSerialization.jsonObject(
                with: Data(member.value.serialized.utf8), options: .fragmentsAllowed)
        }
        let type = configuration?.tokenRequirements.tokenType ?? "JWT"
        return try signing.mint(payload, kid: kid, type: type).0
    }

    /// The request's bytes: the request line, Host (unless a header gives one), the headers in order,
    /// "Connection: close", and a body of as many bytes as a Content-Length says (cases have none),
    /// or the last chunk of a chunked one. Nothing else is added: a POST without either is answered
    /// 411 by lighttpd, as the case decided offline says.
    static func message(
        method: String, target: String, host: String, headers: [(name: String, value: String)]
    ) throws -> [UInt8] {
        func named(_ name: String) -> [String] {
            headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
        }
        for text in [method, target, host] + headers.flatMap({ [$0.name, $0.value] })
        where text.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            throw RequestCase.Problem(
                description: "cannot be sent: a line break or NUL in \(JSON.string(String(text.prefix(40))).serialized)"
            )
        }
        var lines = ["\(method) \(target) HTTP/1.1"]
        if named("Host").isEmpty { lines.append("Host: \(host)") }
        lines += headers.map { "\($0.name): \($0.value)" }
        if named("Connection").isEmpty { lines.append("Connection: close") }
        var body = ""
        if let length = named("Content-Length").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }),
            length > 0
        {
            guard length <= 1 << 20 else {
                throw RequestCase.Problem(description: "cannot be sent: a Content-Length over 1 MiB")
            }
            body = String(repeating: " ", count: length)
        } else if named("Transfer-Encoding").contains(where: { $0.lowercased().contains("chunked") }) {
            body = "0\r\n\r\n"
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
    }

    /// What differs from the expectation, and the expectations an answer cannot show.
    static func compare(
        _ response: HTTPExchange.Response, with test: JSONObject, name: String
    ) throws -> (problems: [String], notChecked: [String]) {
        guard let expect = test["expect"]?.objectValue, let decision = expect["decision"]?.stringValue else {
            throw UsageError("\(name): \"expect\" needs a \"decision\"")
        }
        var problems = [String]()
        let got = refusals.contains(response.status) ? "deny" : "allow"
        if got != decision { problems.append("expected \(decision), got \(got) (status \(response.status))") }
        if case .integer(let status)? = expect["status"], status != 0, status != Int64(response.status) {
            problems.append("expected status \(status), got \(response.status)")
        }
        if let wanted = expect["www_authenticate"] {
            let actual = response.header("WWW-Authenticate").map(JSON.string) ?? .null
            if actual.serialized != wanted.serialized {
                problems.append("expected www_authenticate \(wanted.serialized), got \(actual.serialized)")
            }
        }
        var notChecked = ["reason", "rule"].filter { expect[$0] != nil }
        for (field, what) in [("headers", "header"), ("env", "env")] {
            notChecked += (expect[field]?.objectValue?.members ?? []).map { "\(what) \($0.key)" }
        }
        return (problems, notChecked)
    }
}
