extension Gate {
    /// Passes the caller's identity on: gatehouse.headers and gatehouse.env, and AUTH_TYPE.
    static func attach(_ derived: DerivedIdentity, to decision: inout Decision) throws(TokenError) {
        let attachment = try derived.attached()
        if decision.effects.requestHeaders.isEmpty {
            decision.effects.requestHeaders = attachment.headers
        } else {
            decision.effects.requestHeaders += attachment.headers
        }
        if decision.effects.environment.isEmpty {
            decision.effects.environment = attachment.environment
        } else {
            decision.effects.environment += attachment.environment
        }
    }

    /// The values of gatehouse.headers and gatehouse.env for `identity`, AUTH_TYPE last.
    static func render(
        _ identity: Identity, settings: IdentitySettings
    ) throws(TokenError)
        -> DerivedIdentity.Attachment
    {
        let names = settings.claimPaths
        var headers = [(name: String, value: String)]()
        for field in settings.headers {
            if let value = try field.render(from: identity.claims, isList: names.readsAsList(field.claim)) {
                headers.append((field.name, value))
            }
        }
        var environment = [(name: String, value: String)]()
        for field in settings.environment {
            if let value = try field.render(from: identity.claims, isList: names.readsAsList(field.claim)) {
                environment.append((field.name, value))
            }
        }
        environment.append(("AUTH_TYPE", "Bearer"))
        return DerivedIdentity.Attachment(headers: headers, environment: environment)
    }
}
