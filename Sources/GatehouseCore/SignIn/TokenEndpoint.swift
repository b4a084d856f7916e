internal import CCurl

#if canImport(Glibc)
    import Glibc
#endif

/// One request to the provider's token endpoint (RFC 6749 §3.2), on a worker thread: the form,
/// the client's authentication (OpenID Connect Core §9), libcurl's limits, and what came back.
/// The code exchange and the refresh both send theirs through here.
enum TokenEndpoint {
    /// The most bytes of a token endpoint answer.
    static let maximumResponse = 256 * 1024

    enum Answer {
        /// No answer within gatehouse.sign-in-timeout, or the job was cancelled.
        case late(String)
        /// Not reached, or an answer past `maximumResponse` bytes.
        case failed(String)
        /// An HTTP status and the JSON object of the body (nil when it is not one).
        case answered(status: Int, body: JSONObject?)
    }

    static func post(
        _ form: [(String, String)], clientID: String, settings: SignInSettings, endpoint: String,
        cancelled: UnsafeMutablePointer<Int32>
    ) -> Answer {
        var form = form
        var authorization: String?
        switch settings.auth {
        case .none: form.append(("client_id", clientID))
        case .clientSecretPost: form += [("client_id", clientID), ("client_secret", settings.clientSecret ?? "")]
        case .clientSecretBasic:
            // RFC 6749 §2.3.1: each part form-encoded, then base64.
            let pair = FormEncoding.escape(clientID) + ":" + FormEncoding.escape(settings.clientSecret ?? "")
            authorization = "Authorization: Basic " + base64(Array(pair.utf8))
        }
        let body = FormEncoding.encode(form)
        var response = gh_curl_response()
        response.limit = maximumResponse
        response.cancelled = UnsafePointer(cancelled)
        let timeout = Int(settings.timeout) * 1000
        let code = endpoint.withCString { url in
            body.withCString { body in
                if let authorization {
                    return authorization.withCString { header in
                        gh_curl_post_form(url, body, header, min(3000, timeout), timeout, &response)
                    }
                }
                return gh_curl_post_form(url, body, nil, min(3000, timeout), timeout, &response)
            }
        }
        defer { free(response.body) }
        let why = withUnsafeBytes(of: &response.error) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if code == GH_CURLE_OPERATION_TIMEDOUT || code == GH_CURLE_ABORTED_BY_CALLBACK {
            return .late("the token endpoint \(endpoint) did not answer in time (\(why))")
        }
        if response.too_large != 0 {
            return .failed("the token endpoint \(endpoint) answered more than \(maximumResponse) bytes")
        }
        if code != 0 { return .failed("the token endpoint \(endpoint) could not be reached: \(why)") }
        let bytes = response.body.map { Array(UnsafeRawBufferPointer(start: $0, count: response.length)) } ?? []
        return .answered(status: response.status, body: (try? JSON.parse(bytes).get())?.objectValue)
    }

    /// Standard base64 with padding (RFC 4648 §4), for HTTP Basic.
    static func base64(_ bytes: [UInt8]) -> String {
        var text = Base64URL.encode(bytes).map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 }
        while text.count % 4 != 0 { text.append("=") }
        return String(text)
    }
}
