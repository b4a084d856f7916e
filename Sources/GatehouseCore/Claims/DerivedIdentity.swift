/// What one set of claims gives under one `IdentitySettings`: the identity rules test, and (made
/// the first time a request is let through with it) the request headers and environment passed on.
/// A cached token keeps one per settings it met (`CachedToken`), so a cache hit derives nothing again.
/// Not thread-safe: it fills its attachment lazily (the token cache is used from lighttpd's main
/// thread only).
final class DerivedIdentity {
    /// The values of gatehouse.headers and gatehouse.env (AUTH_TYPE last), in their order.
    struct Attachment {
        let headers: [(name: String, value: String)]
        let environment: [(name: String, value: String)]
    }

    /// Kept alive here, so that the object's identity cannot be reused by other settings while this
    /// is cached.
    let settings: IdentitySettings
    let identity: Identity
    /// A claim whose type is not the one gatehouse.claims-schema declares: the token then gives no
    /// identity (Gate.authenticate).
    let mismatch: TokenError?
    private var attachment: Result<Attachment, TokenError>?

    init(claims: JSONObject, settings: IdentitySettings) {
        self.settings = settings
        identity = Identity(claims: claims, names: settings.claimPaths)
        mismatch = settings.claimsSchema?.check(claims)
    }

    /// The headers and environment to attach, rendered once; throws when a claim cannot be passed
    /// on safely (IdentityField.render), every time it is asked.
    func attached() throws(TokenError) -> Attachment {
        if let attachment { return try attachment.get() }
        let rendered: Result<Attachment, TokenError>
        do {
            rendered = .success(try Gate.render(identity, settings: settings))
        } catch {
            rendered = .failure(error)
        }
        attachment = rendered
        return try rendered.get()
    }
}
