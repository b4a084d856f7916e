/// lighttpd conditions that the client decides alone, by what it sends without changing what it asks
/// for: the Host header, any other request header, the query string and the method. A directive that
/// decides who gets through, set in a block that depends on one of them, is a setting any client can
/// pick (or avoid) for the same backend: `$HTTP["host"] == "new.example.com" { gatehouse.mode =
/// "report-only" }` lets every client choose report-only with a Host header. lighttpd -tt and
/// `gatehouse lint` warn about each.
///
/// Not counted: `$HTTP["url"]` (the path is what the rules themselves decide on: a block keyed on it
/// changes the policy of exactly the paths it names), `$HTTP["remoteip"]`, `$HTTP["scheme"]` and
/// `$SERVER["socket"]` (the connection, which the server's own sockets decide).
public enum ClientChosenCondition {
    /// What the client sends that decides `condition` (lighttpd's text: `$HTTP["host"] == "x"`),
    /// or nil when the client does not decide it alone.
    static func clientInput(_ condition: String) -> String? {
        let fields: [(prefix: String, input: String)] = [
            ("$HTTP[\"host\"]", "the Host header"),
            ("$HTTP[\"referer\"]", "the Referer header"),
            ("$HTTP[\"useragent\"]", "the User-Agent header"),
            ("$HTTP[\"user-agent\"]", "the User-Agent header"),
            ("$HTTP[\"cookie\"]", "the Cookie header"),
            ("$HTTP[\"language\"]", "the Accept-Language header"),
            ("$HTTP[\"querystring\"]", "the query string"),
            ("$HTTP[\"query-string\"]", "the query string"),
            ("$HTTP[\"request-method\"]", "the request method"),
        ]
        if let field = fields.first(where: { condition.hasPrefix($0.prefix + " ") }) { return field.input }
        let header = "$REQUEST_HEADER[\""
        guard condition.hasPrefix(header), let end = condition.dropFirst(header.count).firstIndex(of: "\"") else {
            return nil
        }
        return "the " + condition[condition.index(condition.startIndex, offsetBy: header.count)..<end] + " header"
    }

    /// The warning for `directive` set in a block that depends on `condition`, or nil when there is
    /// nothing to warn about.
    public static func warning(_ directive: Directive, condition: String) -> String? {
        guard directive.decidesAccess, let input = clientInput(condition) else { return nil }
        return "\(directive.name) is set under \(condition), which the client decides alone (by \(input)): "
            + "any client can pick this value or the one outside the block for whatever the request reaches. "
            + "Set it where the client has no say ($HTTP[\"url\"], $HTTP[\"remoteip\"], $SERVER[\"socket\"], "
            + "or the whole server), or make sure what this block guards is reached through this block alone"
    }
}
