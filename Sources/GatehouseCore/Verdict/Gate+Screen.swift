extension Gate {
    /// Why the request is refused before any rule: a path a backend would read as another, or
    /// two headers that CGI reads as one token header.
    static func screen(
        _ request: HTTPRequest, configuration: Configuration, into decision: inout Decision
    )
        -> TokenError?
    {
        if let problem = configuration.pathChecks.problem(in: request.pathBytes)
            ?? request.originalPathBytes.flatMap(configuration.pathChecks.problem(in:))
        {
            return TokenError(.unsafePath, problem + " (gatehouse.path-checks)")
        }
        for name in decision.effects.stripAliases where request.headerCount(name) > 1 {
            return TokenError(.ambiguousHeader, "two request headers that CGI reads as \(name)")
        }
        return nil
    }
}
