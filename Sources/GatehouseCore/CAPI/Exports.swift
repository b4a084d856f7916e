internal import CGatehouse

// The functions of gatehouse.h and the C <-> Swift conversions, nothing else: the engine is the
// process's Runtime (Runtime/), a decision comes from Gate (Verdict/) and what it does from
// Effects (Effects/). `@c @implementation` makes the compiler check each function against the
// hand-written header. Nothing here throws or traps on what a client sends: every failure is an
// outcome or a log line (docs/architecture.md, "The C boundary").

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_engine_new() -> OpaquePointer? {
    // The directive descriptors and gatehouse.h's list must agree (checked once, at startup).
    guard Directive.registryMatchesHeader else { return nil }
    return OpaquePointer(Unmanaged.passRetained(Runtime()).toOpaque())
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_engine_free(_ engine: OpaquePointer?) {
    guard let engine else { return }
    Unmanaged<Runtime>.fromOpaque(UnsafeRawPointer(engine)).release()
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_engine_tick(_ engine: OpaquePointer, _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?) {
    let sink = OutputSink(function: output, context: outputContext)
    runtime(engine).tick { level, message in sink.log(level, message) }
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_setting_compile(
    _ engine: OpaquePointer, _ directive: Int32, _ inCondition: Int32, _ kind: Int32,
    _ entries: UnsafePointer<gh_v1_entry>, _ count: Int,
    _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?
) -> OpaquePointer? {
    let sink = OutputSink(function: output, context: outputContext)
    guard let known = Directive.withID(Int(directive)) else {
        sink.log(GH_V1_LOG_ERROR, "gatehouse: no directive numbered \(directive)")
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
            sink.log(GH_V1_LOG_ERROR, "\(known.name): expected one value")
            return nil
        }
        value = configValue(entries[0])
    }
    do {
        let setting = try Setting.compile(known, value, inCondition: inCondition != 0)
        runtime(engine).keyReloads.register(setting)
        if setting.directive == .login, setting.value as? Bool == true { runtime(engine).signsIn = true }
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

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_directive_name_check(
    _ name: UnsafePointer<CChar>, _ nameLength: Int,
    _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?
) -> Int32 {
    guard let problem = Directive.problem(withKey: CString.string(name, nameLength)) else { return 1 }
    OutputSink(function: output, context: outputContext).emit(GH_V1_LOG_ERROR, "", problem)
    return 0
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_condition_check(
    _ directive: Int32, _ condition: UnsafePointer<CChar>, _ conditionLength: Int,
    _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?
) -> Int32 {
    guard let known = Directive.withID(Int(directive)),
        let warning = ClientChosenCondition.warning(known, condition: CString.string(condition, conditionLength))
    else { return 0 }
    OutputSink(function: output, context: outputContext).emit(GH_V1_LOG_WARNING, "", warning)
    return 1
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_setting_free(_ setting: OpaquePointer?) {
    guard let setting else { return }
    Unmanaged<Setting>.fromOpaque(UnsafeRawPointer(setting)).release()
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_settings_check(
    _ engine: OpaquePointer, _ settings: UnsafePointer<OpaquePointer?>,
    _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?
) -> Int32 {
    let problems = Configuration(settings).problems()
    let sink = OutputSink(function: output, context: outputContext)
    // (a type error shows the rule and a caret under the column on lines of their own)
    for problem in problems {
        for line in problem.split(separator: "\n") { sink.log(GH_V1_LOG_ERROR, String(line)) }
    }
    return problems.isEmpty ? 1 : 0
}

// swift-format-ignore: AlwaysUseLowerCamelCase
@c @implementation
func gh_v1_decide(
    _ engine: OpaquePointer, _ settings: UnsafePointer<OpaquePointer?>,
    _ request: UnsafePointer<gh_v1_request>, _ status: UnsafeMutablePointer<Int32>,
    _ output: gh_v1_output_fn, _ outputContext: UnsafeMutableRawPointer?
) -> Int32 {
    let raw = request.pointee
    let lookup = raw.header
    let count = raw.header_count
    let lookupContext = raw.header_ctx
    let view = HTTPRequest(
        method: CString.string(raw.method, raw.method_len),
        pathBytes: CString.bytes(raw.path, raw.path_len),
        originalPathBytes: raw.original_path.map { CString.bytes($0, raw.original_path_len) },
        host: CString.string(raw.host, raw.host_len),
        remoteIP: CString.string(raw.remote_ip, raw.remote_ip_len),
        query: CString.string(raw.query, raw.query_len),
        lowercasePaths: raw.lowercase_paths != 0,
        readHeader: { name, body in
            var name = name
            return name.withUTF8 { bytes in
                var length = 0
                guard let value = lookup(lookupContext, CString.pointer(bytes), bytes.count, &length) else {
                    return false
                }
                value.withMemoryRebound(to: UInt8.self, capacity: length) {
                    body(UnsafeBufferPointer(start: $0, count: length))
                }
                return true
            }
        },
        headerCount: { name in
            var name = name
            return name.withUTF8 { bytes in count(lookupContext, CString.pointer(bytes), bytes.count) }
        })
    let runtime = runtime(engine)
    let configuration = runtime.configurations.context(for: settings).configuration
    let sink = OutputSink(function: output, context: outputContext)
    // A request that waited for a verify thread is decided again with the job's answer, or 504 when
    // its deadline passed first (Gate's authenticate step); a sign-in job's id goes to runtime.signIn.
    let signature = raw.job != 0 && SignatureJobs.owns(raw.job) ? raw.job : nil
    defer { if let signature { runtime.signatures?.release(signature) } }
    let scheme = configuration.signIn.enabled ? CString.string(raw.scheme, raw.scheme_len) : ""
    var session: (claims: VerifiedClaims, headers: [(name: String, value: String)])?
    var endedSession = [(name: String, value: String)]()
    if configuration.signIn.enabled {
        switch runtime.signIn(
            view, scheme: scheme, configuration: configuration, now: raw.now, resumed: signature == nil ? raw.job : 0,
            sink: sink)
        {
        case .answered(let outcome, let code):
            status.pointee = code
            return outcome
        case .session(let claims, let headers): session = (claims, headers)
        case .decide(let headers): endedSession = headers
        }
    }
    guard
        let decision = Gate.decide(
            view, configuration: configuration, now: raw.now,
            cache: runtime.cache(for: configuration), limiter: runtime.limiter, metrics: runtime.metrics,
            explain: raw.debug != 0, presented: session?.claims,
            offLoop: runtime.signatures.map { OffLoopVerification(jobs: $0, resumed: signature) })
    else {
        // (no rules here: a session renewed or refreshed still gets its new cookie)
        for header in session?.headers ?? [] { sink.emit(GH_V1_SET_RESPONSE_HEADER, header.name, header.value) }
        return Int32(GH_V1_PASS.rawValue)
    }
    if let job = decision.awaiting {
        sink.emit(GH_V1_JOB, "", String(job))
        return Int32(GH_V1_SUSPEND.rawValue)
    }
    runtime.metrics.count(decision)
    if decision.verdict.reason == .busy { runtime.metrics.verifyQueueFull += 1 }
    if configuration.signIn.enabled, decision.verdict.status == 401, decision.verdict.reason == .noToken,
        SignIn.isNavigation(view),
        var redirect = SignIn.loginRedirect(view, scheme: scheme, settings: configuration.signIn, now: raw.now)
    {
        redirect.headers += endedSession
        return runtime.answer(redirect, status: status, sink: sink)
    }
    var effects = Effects(
        of: decision, request: view, configuration: configuration, time: AuditLog.now(),
        statusPage: { runtime.statusText(now: raw.now) })
    // A renewed or refreshed session's cookie goes with every answer, refusals included: the
    // refresh token it replaces may be spent already.
    if let session { effects.responseHeaders += session.headers }
    effects.responseHeaders += endedSession
    sink.apply(effects, auditChains: runtime.auditChains)
    status.pointee = Int32(effects.status)
    return switch effects.outcome {
    case .pass: Int32(GH_V1_PASS.rawValue)
    case .answer: Int32(GH_V1_ANSWER.rawValue)
    case .refuse: Int32(GH_V1_REFUSE.rawValue)
    }
}

/// The Runtime behind a gh_engine pointer.
func runtime(_ engine: OpaquePointer) -> Runtime {
    Unmanaged<Runtime>.fromOpaque(UnsafeRawPointer(engine)).takeUnretainedValue()
}

extension Configuration {
    /// The settings vector of gatehouse.h (GH_V1_DIRECTIVE_COUNT entries, NULL where unset) as a Configuration.
    init(_ settings: UnsafePointer<OpaquePointer?>) {
        self.init()
        for directive in Directive.allCases {
            if let pointer = settings[directive.id] {
                self[directive] = Unmanaged<Setting>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
            }
        }
    }
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

    /// Hands `effects` to the shim in the order it applies them; the audit record goes out chained.
    func apply(_ effects: Effects, auditChains: AuditChains) {
        for name in effects.stripHeaders { emit(GH_V1_STRIP_REQUEST_HEADER, name, "") }
        for name in effects.stripAliases { emit(GH_V1_STRIP_REQUEST_HEADER_ALIASES, name, "") }
        for header in effects.requestHeaders { emit(GH_V1_SET_REQUEST_HEADER, header.name, header.value) }
        for variable in effects.environment { emit(GH_V1_SET_ENV, variable.name, variable.value) }
        for header in effects.responseHeaders { emit(GH_V1_SET_RESPONSE_HEADER, header.name, header.value) }
        if let audit = effects.audit {
            emit(GH_V1_AUDIT, audit.target, auditChains.line(for: audit.record, to: audit.target))
        }
        if let body = effects.body { emit(GH_V1_RESPONSE_BODY, body.contentType, body.text) }
        for line in effects.logs { log(line.level, line.message) }
    }

    func log(_ level: Effects.LogLevel, _ message: String) {
        let kind =
            switch level {
            case .error: GH_V1_LOG_ERROR
            case .warning: GH_V1_LOG_WARNING
            case .debug: GH_V1_LOG_DEBUG
            case .notice: GH_V1_LOG_NOTICE
            }
        log(kind, message)
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
            case 0..<0x20, 0x7F:
                escaped += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
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

    static func bytes(_ pointer: UnsafePointer<CChar>, _ length: Int) -> [UInt8] {
        pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    static func pointer(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafePointer<CChar> {
        UnsafeRawPointer(bytes.baseAddress ?? empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
