/// The state of one read of a configuration (lighttpd's `config_t`): every context so far, the one
/// being filled, and the operations the grammar's actions perform on them (configparser.y's helpers).
final class ConfigBuilder {
    private(set) var nodes: [ContextNode]
    private var current = 0
    private var stack: [Int] = []
    private(set) var warnings: [LighttpdConfigError] = []
    /// The main file's directory with its trailing "/", against which includes resolve ("" if none).
    let baseDirectory: String
    let environment: [String: String]
    let allowShell: Bool
    var includeDepth = 0
    /// `var.` values given from outside (`gatehouse --define`): they win over assignments in the files.
    var defines = [String: Value]()

    init(
        baseDirectory: String, environment: [String: String], allowShell: Bool, globals: [ContextNode.Entry],
        location: SourceLocation
    ) {
        self.baseDirectory = baseDirectory
        self.environment = environment
        self.allowShell = allowShell
        var global = ContextNode(key: Array("global".utf8), conditionStart: 0, location: location)
        global.entries = globals
        nodes = [global]
    }

    func warn(_ location: SourceLocation, _ message: String) {
        warnings.append(LighttpdConfigError(location, message))
    }

    func warn(_ more: [LighttpdConfigError]) {
        warnings += more
    }

    /// "1 global / $HTTP["url"] =^ "/api/"", as lighttpd names the context in its messages.
    private var currentName: String {
        "\(current) \(String(decoding: nodes[current].key, as: UTF8.self))"
    }

    // MARK: - Assignments

    /// `key = value`: a second `=` of the same key in the same context is an error.
    func assign(_ key: String, _ value: Value, at location: SourceLocation) throws(LighttpdConfigError) {
        try refuseEnvironment(key, "Setting", at: location)
        guard nodes[current].entryIndex(key) == nil else {
            throw LighttpdConfigError(location, "Duplicate config variable in conditional \(currentName): \(key)")
        }
        nodes[current].entries.append(.init(key: key, value: value, location: location))
    }

    /// `key := value`: replaces in place, or adds.
    func replace(_ key: String, _ value: Value, at location: SourceLocation) throws(LighttpdConfigError) {
        try refuseEnvironment(key, "Setting", at: location)
        let entry = ContextNode.Entry(key: key, value: value, location: location)
        if let index = nodes[current].entryIndex(key) {
            nodes[current].entries[index] = entry
        } else {
            nodes[current].entries.append(entry)
        }
    }

    /// `key += value`: merges with the key's value in this context, else with a copy of the value an
    /// enclosing context gives it, else sets it.
    func append(_ key: String, _ value: Value, at location: SourceLocation) throws(LighttpdConfigError) {
        try refuseEnvironment(key, "Appending", at: location)
        let earlier: Value?
        if let index = nodes[current].entryIndex(key) {
            earlier = nodes[current].extractEntry(at: index).value
        } else {
            earlier = variable(key)
        }
        var merged = value
        if let earlier { merged = try merge(earlier, value, at: location) }
        nodes[current].entries.append(.init(key: key, value: merged, location: location))
    }

    private func refuseEnvironment(
        _ key: String, _ verb: String, at location: SourceLocation
    )
        throws(LighttpdConfigError)
    {
        if key.hasPrefix("env.") {
            throw LighttpdConfigError(
                location,
                "\(verb) env variable is not supported in conditional "
                    + "\(currentName): \(key)")
        }
    }

    func merge(_ left: Value, _ right: Value, at location: SourceLocation) throws(LighttpdConfigError) -> Value {
        var notes = [String]()
        defer { for note in notes { warn(location, note) } }
        switch left.merged(with: right, notes: &notes) {
        case .success(let value): return value
        case .failure(let error): throw LighttpdConfigError(location, error.message)
        }
    }

    /// `configparser_get_variable()`: the key in this context or the nearest enclosing one.
    func variable(_ key: String) -> Value? {
        if let defined = defines[key] { return defined }
        var node: Int? = current
        while let index = node {
            if let entry = nodes[index].entryIndex(key) { return nodes[index].entries[entry].value }
            node = nodes[index].parent
        }
        return nil
    }

    /// A value written as a key: `env.NAME` from the environment, anything else a variable.
    func value(ofKey key: String, at location: SourceLocation) throws(LighttpdConfigError) -> Value {
        if key.hasPrefix("env.") {
            let name = String(key.dropFirst(4))
            guard let text = environment[name] else {
                throw LighttpdConfigError(location, "Undefined env variable: \(name)")
            }
            return .string(text)
        }
        guard let value = variable(key) else {
            throw LighttpdConfigError(location, "Undefined config variable: \(key)")
        }
        return value
    }

    // MARK: - Contexts

    private func node(withKey key: [UInt8], except excluded: Int? = nil) -> Int? {
        nodes.indices.first { $0 != excluded && ContextNode.sameKey(nodes[$0].key, key) }
    }

    /// `configparser_push()`.
    private func push(_ index: Int, at location: SourceLocation) throws(LighttpdConfigError) {
        if !stack.isEmpty && current == 0 {
            throw LighttpdConfigError(location, "Cannot use conditionals inside a global { ... } block")
        }
        stack.append(current)
        current = index
    }

    private func pushNew(_ node: ContextNode, at location: SourceLocation) throws(LighttpdConfigError) {
        var node = node
        node.parent = current
        nodes.append(node)
        nodes[current].children.append(nodes.count - 1)
        try push(nodes.count - 1, at: location)
    }

    /// `configparser_pop()`: back to the enclosing context; returns the one left.
    func pop() -> Int {
        let left = current
        current = stack.removeLast()
        return left
    }

    /// `global { … }`.
    func openGlobal(at location: SourceLocation) throws(LighttpdConfigError) {
        try push(0, at: location)
    }

    /// `configparser_parse_condition()`: enters the context of `$OBJECT["tag"] OP "value"`, an existing one
    /// if the same condition text (after `=~` simplification) is already open under the same parent.
    func openCondition(
        object: String, tag: String, op: ConditionOperator, value: String,
        at location: SourceLocation
    ) throws(LighttpdConfigError) {
        let field = ConditionField(object: object, tag: tag)
        var op = op
        var value = value
        if op == .match && field != .serverSocket { (op, value) = Condition.simplified(value) }
        let text = "$\(object)[\"\(tag)\"] \(op.rawValue) \"\(value)\""
        let key = nodes[current].key + Array(" / ".utf8) + Array(text.utf8)
        if let existing = node(withKey: key) {
            try push(existing, at: location)
            return
        }
        guard let field else {
            throw LighttpdConfigError(
                location,
                "error comp_key \(text): unknown condition (lighttpd 1.4.69 knows "
                    + "$HTTP[\"url\" | \"host\" | \"remoteip\" | \"scheme\" | \"querystring\" | "
                    + "\"request-method\" | \"useragent\" | \"user-agent\" | \"referer\" | "
                    + "\"cookie\" | \"language\"], $REQUEST_HEADER[\"Name\"], $SERVER[\"socket\"])")
        }
        let condition = try Self.condition(field, op, value, at: location)
        let node = ContextNode(
            key: key, conditionStart: nodes[current].key.count + 3, condition: condition,
            location: location)
        try pushNew(node, at: location)
    }

    /// The per-field checks and normalisation lighttpd applies to a new condition's value.
    private static func condition(
        _ field: ConditionField, _ op: ConditionOperator, _ value: String,
        at location: SourceLocation
    ) throws(LighttpdConfigError) -> Condition {
        let invalid = LighttpdConfigError(location, "invalid IP addr: \(value)")
        var condition = Condition(field: field, op: op, value: value)
        switch field {
        case .remoteIP where op != .match && op != .noMatch:
            switch HostNormalizer.remoteIP(value) {
            case .path:
                break
            case .network(let address, let bits, let normalized):
                condition.value = normalized
                if op == .equal || op == .notEqual { condition.network = (address, bits) }
            case .invalid:
                throw invalid
            case .undefined(let reason):
                throw LighttpdConfigError(
                    location,
                    "invalid IP addr: \(value): \(reason) (lighttpd 1.4.69 "
                        + "accepts this silently, then compares against memory it never set)")
            }
        case .serverSocket:
            if !(value.hasPrefix(":") || value.hasPrefix("[]") || value.hasPrefix("/") || value.hasPrefix("\\")) {
                guard let normalized = HostNormalizer.normalize(value) else { throw invalid }
                condition.value = normalized
            }
        case .host where op != .match && op != .noMatch:
            guard let normalized = HostNormalizer.normalize(value) else { throw invalid }
            condition.value = normalized
        default:
            break
        }
        return condition
    }

    /// `else {`: a context keyed for now under a placeholder (lighttpd's "else_tmp_token"), re-keyed
    /// when the block closes.
    func openElse(at location: SourceLocation) throws(LighttpdConfigError) {
        let key = nodes[current].key + Array(" / else_tmp_token".utf8)
        var node = ContextNode(key: key, conditionStart: key.count, location: location)
        node.isElse = true
        try pushNew(node, at: location)
    }

    /// `… } else $HTTP[…] { … }` (`previous` the branch before, `branch` the one after `else`).
    func chain(_ previous: Int, _ branch: Int, at location: SourceLocation) throws(LighttpdConfigError) {
        try checkChain(previous, branch, at: location)
        nodes[branch].previous = previous
        nodes[previous].next = branch
    }

    /// `… } else { … }`: the block takes the key of the branch before with the operator turned around
    /// (`==` to `!=`, `=~` to `!~`…); a context already holding that key makes lighttpd refuse it.
    func chainElse(_ previous: Int, _ branch: Int, at location: SourceLocation) throws(LighttpdConfigError) {
        try checkChain(previous, branch, at: location)
        var key = nodes[previous].key
        let position = key.count - (nodes[previous].condition?.value.utf8.count ?? 0) - 5
        if key.indices.contains(position), let op = nodes[previous].condition?.op {
            key[position] = UInt8(ascii: op == .notEqual || op == .noMatch ? "=" : "!")
        }
        guard node(withKey: key, except: branch) == nil else {
            throw LighttpdConfigError(location, "unreachable else condition")
        }
        nodes[branch].key = key
        nodes[branch].conditionStart = nodes[previous].conditionStart
        nodes[branch].previous = previous
        nodes[previous].next = branch
    }

    private func checkChain(_ previous: Int, _ branch: Int, at location: SourceLocation) throws(LighttpdConfigError) {
        if previous >= branch { throw LighttpdConfigError(location, "unreachable else condition") }
        if nodes[previous].isElse {
            throw LighttpdConfigError(location, "unreachable condition following else catch-all")
        }
    }
}
