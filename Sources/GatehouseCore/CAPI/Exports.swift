internal import CGatehouse

// The functions of gatehouse.h. `@c @implementation` makes the compiler check each one
// against the hand-written header. Nothing here throws or traps on what a client sends:
// every failure is a status or a log line.

/// Shared by all contexts of one lighttpd; outlives every setting compiled with it.
final class Engine {
    private var tokens: TokenCache?
    let limiter = RateLimiter()
    let metrics = Metrics()
    /// Off-loop work (sign-in callbacks), when a context signs people in.
    var pool: JobPool?
    /// Whether some context signs people in (gatehouse.login = "enable").
    var signsIn = false
    /// Consumed login states and sessions opened lately.
    var signInMemory = SignInMemory()
    /// Every key file a setting compiled with this engine reads.
    private var keySources: [KeySource] = []

    func register(_ setting: Setting) {
        if case .signIn(.enabled(true)) = setting.value { signsIn = true }
        if case .keys(let source) = setting.value, !keySources.contains(where: { $0 === source }) {
            keySources.append(source)
        }
    }

    fileprivate func tick(_ sink: OutputSink) {
        var reloaded = false
        for source in keySources {
            switch source.reloadIfChanged() {
            case nil: continue
            case .success(let count)?:
                reloaded = true
                metrics.keyReloads += 1
                sink.log(GH_V1_LOG_NOTICE, "gatehouse: reloaded \(source.path) (\(count) keys)")
                for skipped in source.keys.skipped { sink.log(GH_V1_LOG_WARNING, "gatehouse: \(skipped)") }
            case .failure(let error)?:
                metrics.keyLoadErrors += 1
                sink.log(GH_V1_LOG_ERROR, "gatehouse: keeping the keys in force, \(source.path) was refused: \(error)")
            }
        }
        if reloaded { tokens?.removeAll() }
    }

    /// The counters of gatehouse.status-url.
    func statusText(now: Int64) -> String {
        metrics.text(cache: tokens, keys: keySources, now: now)
    }

    /// The last `chain` written to each audit target.
    private var auditChains: [String: String] = [:]

    /// The audit line for a decision, chained to the target's previous line; nil when the
    /// context keeps no audit trail or the decision is not one it records.
    func auditLine(_ decision: Decision, request: HTTPRequest, configuration: Configuration) -> String? {
        guard let target = configuration.auditLog,
              configuration.auditsAll || !decision.allowed || decision.wouldRefuse != nil else { return nil }
        let previous = auditChains[target] ?? (target.hasPrefix("|") ? AuditLog.genesis : AuditLog.lastChain(ofFile: target))
        let record = AuditLog.record(decision, request: request, token: decision.token, identity: decision.claims,
                                     reportOnly: configuration.reportOnly, time: AuditLog.now())
        let (line, chain) = AuditLog.chained(record, after: previous)
        auditChains[target] = chain
        return line
    }
    /// The Configurations of the settings combinations seen lately (a handful: one per set of
    /// matching conditions), so a request only compares pointers.
    private var recent: [(settings: [OpaquePointer?], configuration: Configuration)] = []

    func configuration(_ settings: UnsafePointer<OpaquePointer?>) -> Configuration {
        let count = Directive.count
        if let index = recent.firstIndex(where: { entry in
            (0..<count).allSatisfy { entry.settings[$0] == settings[$0] }
        }) {
            return recent[index].configuration
        }
        let configuration = GatehouseCore.configuration(settings)
        if recent.count == 8 { recent.removeFirst() }
        recent.append((Array(UnsafeBufferPointer(start: settings, count: count)), configuration))
        return configuration
    }

    /// The verified-token cache, sized by gatehouse.cache-size (a server-wide directive).
    func cache(for configuration: Configuration) -> TokenCache {
        if let tokens, tokens.capacity == configuration.cacheSize { return tokens }
        let fresh = TokenCache(capacity: configuration.cacheSize)
        tokens = fresh
        return fresh
    }
}

@c @implementation
func gh_v1_engine_new() -> OpaquePointer? {
    OpaquePointer(Unmanaged.passRetained(Engine()).toOpaque())
}

@c @implementation
func gh_v1_engine_free(_ engine: OpaquePointer?) {
    guard let engine else { return }
    Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(engine)).release()
}

@c @implementation
func gh_v1_engine_tick(_ engine: OpaquePointer, _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?) {
    Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(engine)).takeUnretainedValue()
        .tick(OutputSink(function: output, context: outputContext))
}

@c @implementation
func gh_v1_setting_compile(
    _ engine: OpaquePointer, _ directive: Int32,
    _ name: UnsafePointer<CChar>, _ nameLength: Int, _ kind: Int32,
    _ entries: UnsafePointer<gh_v1_entry>, _ count: Int,
    _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?
) -> OpaquePointer? {
    let sink = OutputSink(function: output, context: outputContext)
    let givenName = CString.string(name, nameLength)
    guard let known = Directive(id: Int(directive)), known.name == givenName else {
        sink.log(GH_V1_LOG_ERROR, "\(givenName): the module and GatehouseCore disagree on the directive table")
        return nil
    }
    let value: ConfigValue
    switch Int(kind) {
    case Int(GH_V1_VALUE_ARRAY.rawValue):
        value = .list(
            (0..<count).map { index in
                let entry = entries[index]
                return (entry.key.map { CString.string($0, entry.key_len) }, configValue(entry))
            })
    default:
        guard count == 1 else {
            sink.log(GH_V1_LOG_ERROR, "\(givenName): expected one value")
            return nil
        }
        value = configValue(entries[0])
    }
    do {
        let setting = try Setting.compile(known, value)
        Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(engine)).takeUnretainedValue().register(setting)
        for warning in setting.warnings { sink.log(GH_V1_LOG_WARNING, warning) }
        return OpaquePointer(Unmanaged.passRetained(setting).toOpaque())
    } catch {
        // (a rule's error shows the rule and a caret under the column on lines of their own)
        for line in error.description.split(separator: "\n") { sink.log(GH_V1_LOG_ERROR, String(line)) }
        return nil
    }
}

private func configValue(_ entry: gh_v1_entry) -> ConfigValue {
    switch Int(entry.kind) {
    case Int(GH_V1_VALUE_ARRAY.rawValue): return .list([])
    case Int(GH_V1_VALUE_INTEGER.rawValue):
        let digits = CString.string(entry.value, entry.value_len)
        return Int64(digits).map(ConfigValue.integer) ?? .string(digits)
    default: return .string(CString.string(entry.value, entry.value_len))
    }
}

@c @implementation
func gh_v1_directive_name_check(
    _ name: UnsafePointer<CChar>, _ nameLength: Int,
    _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?
) -> Int32 {
    guard let problem = Directive.problem(withKey: CString.string(name, nameLength)) else { return 1 }
    OutputSink(function: output, context: outputContext).emit(GH_V1_LOG_ERROR, "", problem)
    return 0
}

@c @implementation
func gh_v1_condition_check(
    _ directive: Int32, _ condition: UnsafePointer<CChar>, _ conditionLength: Int,
    _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?
) -> Int32 {
    guard let known = Directive(id: Int(directive)),
        let warning = ClientChosenCondition.warning(known, condition: CString.string(condition, conditionLength))
    else { return 0 }
    OutputSink(function: output, context: outputContext).emit(GH_V1_LOG_WARNING, "", warning)
    return 1
}

@c @implementation
func gh_v1_setting_free(_ setting: OpaquePointer?) {
    guard let setting else { return }
    Unmanaged<Setting>.fromOpaque(UnsafeRawPointer(setting)).release()
}

@c @implementation
func gh_v1_settings_check(
    _ engine: OpaquePointer, _ settings: UnsafePointer<OpaquePointer?>,
    _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?
) -> Int32 {
    let problems = configuration(settings).problems()
    let sink = OutputSink(function: output, context: outputContext)
    for problem in problems { sink.log(GH_V1_LOG_ERROR, problem) }
    return problems.isEmpty ? 1 : 0
}

@c @implementation
func gh_v1_decide(
    _ engine: OpaquePointer, _ settings: UnsafePointer<OpaquePointer?>,
    _ request: UnsafePointer<gh_v1_request>,
    _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?
) -> Int32 {
    let raw = request.pointee
    let lookup = raw.header
    let count = raw.header_count
    let lookupContext = raw.header_ctx
    let view = HTTPRequest(
        method: CString.string(raw.method, raw.method_len),
        path: CString.string(raw.path, raw.path_len),
        originalPath: raw.original_path.map { CString.string($0, raw.original_path_len) },
        host: CString.string(raw.host, raw.host_len),
        remoteIP: CString.string(raw.remote_ip, raw.remote_ip_len),
        query: CString.string(raw.query, raw.query_len),
        lowercasePaths: raw.lowercase_paths != 0,
        header: { name in
            var name = name
            return name.withUTF8 { bytes -> String? in
                var length = 0
                guard let base = bytes.baseAddress,
                    let value = lookup(
                        lookupContext, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self),
                        bytes.count, &length)
                else { return nil }
                return CString.string(value, length)
            }
        },
        headerCount: { name in
            var name = name
            return name.withUTF8 { bytes in count(lookupContext, CString.pointer(bytes), bytes.count) }
        })
    let engine = Unmanaged<Engine>.fromOpaque(UnsafeRawPointer(engine)).takeUnretainedValue()
    let configuration = engine.configuration(settings)
    let sink = OutputSink(function: output, context: outputContext)
    let scheme = CString.string(raw.scheme, raw.scheme_len)
    var session: (claims: JSONObject, headers: [(name: String, value: String)])?
    if configuration.signIn.enabled {
        switch engine.signIn(view, scheme: scheme, configuration: configuration, now: raw.now, sink: sink) {
        case .answered(let status): return status
        case .session(let claims, let headers): session = (claims, headers)
        case .decide: break
        }
    }
    guard
        let decision = Gate.decide(
            view, configuration: configuration, now: raw.now,
            cache: engine.cache(for: configuration), limiter: engine.limiter, metrics: engine.metrics,
            explain: raw.debug != 0, presented: session?.claims)
    else { return 0 }
    if configuration.signIn.enabled, decision.status == 401, decision.reason == .noToken, SignIn.isNavigation(view),
        let redirect = SignIn.loginRedirect(view, scheme: scheme, settings: configuration.signIn, now: raw.now)
    {
        engine.metrics.count(decision)
        return engine.answer(redirect, sink: sink)
    }
    for name in decision.stripHeaders { sink.emit(GH_V1_STRIP_REQUEST_HEADER, name, "") }
    for name in decision.stripAliases { sink.emit(GH_V1_STRIP_REQUEST_HEADER_ALIASES, name, "") }
    for header in decision.requestHeaders { sink.emit(GH_V1_SET_REQUEST_HEADER, header.name, header.value) }
    for variable in decision.environment { sink.emit(GH_V1_SET_ENV, variable.name, variable.value) }
    if let challenge = decision.wwwAuthenticate { sink.emit(GH_V1_SET_RESPONSE_HEADER, "WWW-Authenticate", challenge) }
    for header in decision.responseHeaders { sink.emit(GH_V1_SET_RESPONSE_HEADER, header.name, header.value) }
    if decision.status == 0, let session {
        for header in session.headers { sink.emit(GH_V1_SET_RESPONSE_HEADER, header.name, header.value) }
    }
    if let line = engine.auditLine(decision, request: view, configuration: configuration),
       let target = configuration.auditLog {
        sink.emit(GH_V1_AUDIT, target, line)
    }
    engine.metrics.count(decision)
    if decision.status == 0, let statusURL = configuration.statusURL, statusURL.sameBytes(view.path),
        view.originalPath.map({ statusURL.sameBytes($0) }) ?? true
    {
        sink.emit(GH_V1_RESPONSE_BODY, "text/plain; version=0.0.4; charset=utf-8", engine.statusText(now: raw.now))
        return 200
    }
    if let problem = decision.problem {
        sink.log(GH_V1_LOG_WARNING, "gatehouse: \(view.method) \(view.path): \(problem)")
    }
    if let status = decision.wouldRefuse {
        sink.log(
            GH_V1_LOG_WARNING,
            "gatehouse report-only: \(view.method) \(view.path) would be refused "
                + "with \(status) (\(decision.reason.rawValue), rule \(decision.rule))")
    }
    if let explanation = decision.explanation {
        sink.log(GH_V1_LOG_DEBUG, "gatehouse: \(view.method) \(view.path): " + explanation.joined(separator: "; "))
    }
    return Int32(decision.status)
}

/// The settings array of gatehouse.h as a Configuration.
func configuration(_ settings: UnsafePointer<OpaquePointer?>) -> Configuration {
    var configuration = Configuration()
    for directive in Directive.allCases {
        if let pointer = settings[directive.id] {
            configuration[directive] = Unmanaged<Setting>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
        }
    }
    return configuration
}

/// Calls the shim's output function with Swift strings.
struct OutputSink {
    let function: gh_v1_output_fn
    let context: UnsafeMutableRawPointer?

    func emit(_ kind: gh_v1_output_kind, _ name: String, _ value: String) {
        var name = name
        var value = value
        name.withUTF8 { n in
            value.withUTF8 { v in
                function(context, Int32(kind.rawValue), CString.pointer(n), n.count, CString.pointer(v), v.count)
            }
        }
    }

    /// One log line: control characters escaped (`\n`, `\x1b`), so nothing a token or a request
    /// carries can start a line of its own in lighttpd's error log.
    func log(_ kind: gh_v1_output_kind, _ message: String) {
        guard message.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            emit(kind, "", message)
            return
        }
        var escaped = [UInt8]()
        let hex = Array("0123456789abcdef".utf8)
        for byte in message.utf8 {
            switch byte {
            case 0x0A: escaped += Array("\\n".utf8)
            case 0x0D: escaped += Array("\\r".utf8)
            case 0x09: escaped += Array("\\t".utf8)
            case 0..<0x20, 0x7F: escaped += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: escaped.append(byte)
            }
        }
        emit(kind, "", String(decoding: escaped, as: UTF8.self))
    }
}

enum CString {
    private static let empty: StaticString = ""

    static func string(_ pointer: UnsafePointer<CChar>, _ length: Int) -> String {
        pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    static func pointer(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafePointer<CChar> {
        UnsafeRawPointer(bytes.baseAddress ?? empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
