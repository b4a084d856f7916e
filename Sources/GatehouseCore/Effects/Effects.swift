/// What a decision does, computed from it: what the module applies to the request and the response,
/// and what `gatehouse check` shows. The verdict says whether the request passes; the effects are the
/// request headers removed and set, the environment, the response headers, the module's own body,
/// the audit record and the log lines.
public struct Effects: Sendable {
    /// What becomes of the request (gatehouse.h's enum gh_v1_outcome).
    public enum Outcome: Sendable {
        /// Let through to lighttpd's handlers, with the request headers and environment below.
        case pass
        /// Answered by the module itself (`status`: the status page's 200, a CORS preflight's 204).
        case answer
        /// Refused with `status`: final, no handler, backend or error handler runs for it.
        case refuse
    }

    public enum LogLevel: Sendable {
        case error, warning, debug, notice
    }

    public var outcome = Outcome.pass
    /// The status of an answer or a refusal; 0 for `pass`.
    public var status = 0
    /// Request headers removed whatever the outcome (compared as a CGI backend reads names).
    public var stripHeaders: [String] = []
    /// Token headers whose other spellings (the same CGI name, another name) are removed.
    public var stripAliases: [String] = []
    public var requestHeaders: [(name: String, value: String)] = []
    public var environment: [(name: String, value: String)] = []
    /// WWW-Authenticate first, then the others (a 429's Retry-After, a preflight's Access-Control-*).
    public var responseHeaders: [(name: String, value: String)] = []
    /// The module's own answer (gatehouse.status-url).
    public var body: (contentType: String, text: String)?
    /// The audit record (its line without `chain`), and the gatehouse.audit-log target it goes to.
    public var audit: (target: String, record: String)?
    /// Lines for lighttpd's error log; each one line (OutputSink escapes control characters).
    public var logs: [(level: LogLevel, message: String)] = []

    /// The effects on the request that the decision's steps set (the headers of gatehouse.strip-headers).
    init(stripHeaders: [String]) {
        self.stripHeaders = stripHeaders
    }

    /// The effects of `decision` on `request` under `configuration`: what its steps set, with the
    /// challenge, the audit record (stamped with `time`, read only then), the status page and the
    /// log lines. `statusPage`: the counters gatehouse.status-url answers with (the module's
    /// runtime; the CLI's, none). (Borrowed, not consumed as an initializer's arguments are by
    /// default: a request copies none of the three.)
    public init(
        of decision: borrowing Decision, request: borrowing HTTPRequest, configuration: borrowing Configuration,
        time: @autoclosure () -> (seconds: Int64, milliseconds: Int), statusPage: () -> String
    ) {
        self = decision.effects
        if let challenge = decision.verdict.wwwAuthenticate {
            responseHeaders.insert(("WWW-Authenticate", challenge), at: 0)
        }
        if let target = configuration.auditLog,
            configuration.auditsAll || !decision.verdict.allowed || decision.diagnostics.wouldRefuse != nil
        {
            audit = (
                target,
                AuditLog.record(
                    decision, request: request, token: decision.token, identity: decision.claims,
                    reportOnly: configuration.reportOnly, time: time())
            )
        }
        if decision.verdict.status == 0, let statusURL = configuration.statusURL,
            statusURL.utf8.elementsEqual(request.pathBytes),
            request.originalPathBytes.map({ statusURL.utf8.elementsEqual($0) }) ?? true
        {
            outcome = .answer
            status = 200
            body = ("text/plain; version=0.0.4; charset=utf-8", statusPage())
            return
        }
        outcome = decision.verdict.status == 0 ? .pass : decision.verdict.allowed ? .answer : .refuse
        status = decision.verdict.status
        if let problem = decision.diagnostics.problem {
            logs.append((.warning, "gatehouse: \(request.method) \(request.path): \(problem)"))
        }
        if let status = decision.diagnostics.wouldRefuse {
            logs.append(
                (
                    .warning,
                    "gatehouse report-only: \(request.method) \(request.path) would be refused "
                        + "with \(status) (\(decision.verdict.reason.rawValue), rule \(decision.verdict.rule))"
                ))
        }
        if let explanation = decision.diagnostics.explanation {
            logs.append(
                (.debug, "gatehouse: \(request.method) \(request.path): " + explanation.joined(separator: "; ")))
        }
    }
}
