/// This site as the identity provider's client, for the work a worker thread does with the provider
/// (a sign-in's code exchange, a session's refresh): the client id with its secret and authentication
/// method (in `settings`), the provider's endpoints, the keys and requirements an ID token is
/// verified with, and the session keys and claim paths that seal what the provider answers. Copies,
/// made on the event loop for each job.
struct ProviderClient: Sendable {
    let clientID: String
    let settings: SignInSettings
    let metadata: ProviderMetadata
    let keys: KeySet?
    let requirements: TokenRequirements
    let sessionKeys: SessionKeys
    let claimPaths: ClaimPaths

    /// `form` posted to the provider's token endpoint, authenticated as this client.
    func post(_ form: [(String, String)], cancelled: UnsafeMutablePointer<Int32>) -> TokenEndpoint.Answer {
        TokenEndpoint.post(
            form, clientID: clientID, settings: settings, endpoint: metadata.tokenEndpoint, cancelled: cancelled)
    }

    /// The claims of an ID token issued to this client (CodeExchange.check: the nonce aside).
    func check(_ idToken: String, now: Int64) -> Result<JSONObject, CodeExchange.Refusal> {
        CodeExchange.check(
            idToken, clientID: clientID, issuer: metadata.issuer, keys: keys, requirements: requirements, now: now)
    }

    /// `session` sealed in the cookies a browser accepts (SessionContents.sealToFit: claims left out to
    /// fit, never those rules read by name).
    func seal(
        _ session: inout SessionContents, maxAge: Int64, log: inout [(error: Bool, text: String)]
    ) -> Result<[(name: String, value: String)], SessionContents.SealFailure> {
        session.sealToFit(keys: sessionKeys, maxAge: maxAge, essential: CodeExchange.essential(claimPaths), log: &log)
    }
}

extension ProviderClient {
    /// The client of the sign-in settings of `configuration`, with its session keys and the
    /// provider's metadata.
    init(clientID: String, configuration: Configuration, metadata: ProviderMetadata, sessionKeys: SessionKeys) {
        self.init(
            clientID: clientID, settings: configuration.signIn, metadata: metadata, keys: configuration.keys,
            requirements: configuration.tokenRequirements, sessionKeys: sessionKeys,
            claimPaths: configuration.claimPaths)
    }
}
