extension Gate {
    /// Passes the caller's identity on: gatehouse.headers and gatehouse.env, and AUTH_TYPE.
    static func attach(
        _ identity: Identity, to decision: inout Decision,
        configuration: Configuration
    ) throws(TokenError) {
        let names = configuration.claimPaths
        for field in configuration.headers {
            if let value = try field.render(from: identity.claims, isList: names.readsAsList(field.claim)) {
                decision.effects.requestHeaders.append((field.name, value))
            }
        }
        for field in configuration.environment {
            if let value = try field.render(from: identity.claims, isList: names.readsAsList(field.claim)) {
                decision.effects.environment.append((field.name, value))
            }
        }
        decision.effects.environment.append(("AUTH_TYPE", "Bearer"))
    }
}
