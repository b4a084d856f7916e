/// The provider's endpoints, from its discovery document (OpenID Connect Discovery 1.0 §3) as
/// `gatehouse jwks fetch --metadata-out FILE` saved it: read when the configuration loads, so
/// `lighttpd -tt` knows whether a login context can work, and never fetched on a request.
public struct ProviderMetadata: Sendable {
    public let issuer: String
    public let authorizationEndpoint: String
    public let tokenEndpoint: String
    public let endSessionEndpoint: String?

    public static func load(path: String) throws(ConfigError) -> ProviderMetadata {
        let bytes: [UInt8]
        do {
            bytes = try FileBytes.read(path: path, limit: 256 * 1024)
        } catch {
            throw ConfigError("cannot read \(path): \(error)")
        }
        return try parse(bytes, source: path)
    }

    public static func parse(_ bytes: [UInt8], source: String) throws(ConfigError) -> ProviderMetadata {
        guard case .success(let json) = JSON.parse(bytes), let object = json.objectValue else {
            throw ConfigError("\(source): expected the provider's discovery document, a JSON object")
        }
        func endpoint(_ name: String, required: Bool) throws(ConfigError) -> String? {
            guard let value = object[name] else {
                if required { throw ConfigError("\(source): expected \"\(name)\" in the discovery document") }
                return nil
            }
            guard let url = value.stringValue, isAllowed(url) else {
                throw ConfigError(
                    "\(source): \"\(name)\" must be an https URL (http only on loopback), got \(value.serialized)")
            }
            return url
        }
        guard let issuer = try endpoint("issuer", required: true),
            let authorization = try endpoint("authorization_endpoint", required: true),
            let token = try endpoint("token_endpoint", required: true)
        else { throw ConfigError("\(source): incomplete discovery document") }
        return ProviderMetadata(
            issuer: issuer, authorizationEndpoint: authorization, tokenEndpoint: token,
            endSessionEndpoint: try endpoint("end_session_endpoint", required: false))
    }

    /// https, or http to a loopback address (a provider on the same machine, tests).
    static func isAllowed(_ url: String) -> Bool {
        guard !url.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else { return false }
        if url.hasPrefix("https://") { return url.utf8.count > 8 }
        for host in ["http://127.0.0.1", "http://localhost", "http://[::1]"] where url.hasPrefix(host) {
            let rest = url.dropFirst(host.count)
            if rest.isEmpty || rest.first == ":" || rest.first == "/" { return true }
        }
        return false
    }
}
