/// The settings that turn a token's claims into an identity and the values passed on:
/// gatehouse.roles-claim, -groups-claim, -scope-claim and -role-inherits (`claimPaths`),
/// gatehouse.claims-schema, gatehouse.headers and gatehouse.env. A Configuration makes a new one whenever one of them
/// changes, so the object itself names one combination: a cached token keeps what it derived
/// under each (`DerivedIdentity`), found by this object's identity, and two contexts with other
/// settings never share an identity or a rendered value.
public final class IdentitySettings: Sendable {
    public let claimPaths: ClaimPaths
    public let claimsSchema: ClaimsSchema?
    public let headers: [IdentityField]
    public let environment: [IdentityField]

    init(claimPaths: ClaimPaths, claimsSchema: ClaimsSchema?, headers: [IdentityField], environment: [IdentityField]) {
        self.claimPaths = claimPaths
        self.claimsSchema = claimsSchema
        self.headers = headers
        self.environment = environment
    }
}
