/// Claims taken as verified — a cached token's, an opened session cookie's, or those given to
/// `gatehouse check --claims` — with the identities derived from them under the IdentitySettings
/// of the contexts that used them lately, so that the same claims again derive no identity and
/// render no header (docs/architecture.md, "How a request flows").
/// (Not final: a cached token is one, `CachedToken`, so that it is one object in memory.)
public class VerifiedClaims {
    public let claims: JSONObject
    /// The identity under the settings met first, and under others met since (the latest first;
    /// with the first, at most `derivedLimit`: a server with more contexts of other identity
    /// settings derives again). Most servers have one: no array then.
    private var first: DerivedIdentity?
    private var others: [DerivedIdentity] = []
    static let derivedLimit = 4

    public init(_ claims: JSONObject) {
        self.claims = claims
    }

    /// The identity under `settings`: derived the first time, then kept.
    func derived(under settings: IdentitySettings) -> DerivedIdentity {
        if let first, first.settings === settings { return first }
        if let known = others.first(where: { $0.settings === settings }) { return known }
        let fresh = DerivedIdentity(claims: claims, settings: settings)
        if first == nil {
            first = fresh
        } else {
            if others.count == VerifiedClaims.derivedLimit - 1 { others.removeLast() }
            others.insert(fresh, at: 0)
        }
        return fresh
    }
}
