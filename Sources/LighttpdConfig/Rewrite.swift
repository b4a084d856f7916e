/// mod_rewrite's `url.rewrite-once` (and its older names `url.rewrite`, `url.rewrite-final`) for one
/// request, as lighttpd 1.4.69 applies it before any module decides: the first pattern that matches the
/// normalised request-target (path and query, still percent-encoded) replaces it, `$0`…`$9` standing for
/// its groups; an empty replacement stops the search without a rewrite.
extension LighttpdConfig {
    /// What the CLI cannot reproduce: the rewrite depends on the file system or on more of lighttpd.
    public struct RewriteUnsupported: Error, CustomStringConvertible {
        public let description: String
    }

    /// The new request-target, or nil when no rule rewrites this request.
    public func rewrittenTarget(for request: RequestFacts) throws(RewriteUnsupported) -> String? {
        let modules = directives(for: request, prefix: "server.modules").first { $0.key == "server.modules" }?.value
        guard case .list(let names)? = modules,
            names.contains(where: { if case .string("mod_rewrite") = $0.value { true } else { false } })
        else { return nil }  // without mod_rewrite, lighttpd ignores url.rewrite*
        let entries = directives(for: request, prefix: "url.rewrite")
        if let other = entries.first(where: { $0.key.contains("repeat") || $0.key.contains("if-not-file") }) {
            throw RewriteUnsupported(
                description: "\(other.location): \(other.key) is not modelled (it repeats or looks at files): "
                    + "decide the rewritten request instead")
        }
        let once = entries.filter { ["url.rewrite-once", "url.rewrite", "url.rewrite-final"].contains($0.key) }
        guard let list = once.last else { return nil }
        if once.count > 1 {
            throw RewriteUnsupported(
                description: "\(list.location): more than one of url.rewrite-once, url.rewrite and "
                    + "url.rewrite-final applies: decide the rewritten request instead")
        }
        guard case .list(let rules) = list.value else { return nil }
        for rule in rules {
            guard let pattern = rule.key, case .string(let replacement) = rule.value,
                case .success(let regex) = ConditionRegex.compile(pattern)
            else {
                throw RewriteUnsupported(description: "\(list.location): a rule lighttpd would refuse")
            }
            guard let groups = regex.captures(request.target) else { continue }
            if replacement.isEmpty { return nil }
            let target = try Self.substitute(replacement, groups, at: list.location)
            guard target.hasPrefix("/") else {
                throw RewriteUnsupported(description: "\(list.location): the rewritten target \(target) is refused")
            }
            return target
        }
        return nil
    }

    /// `pcre_keyvalue_buffer_subst()` for `$N`, `$$` and `%%`; `%N` and `${…}` are not modelled.
    private static func substitute(
        _ replacement: String, _ groups: [String], at location: SourceLocation
    ) throws(RewriteUnsupported) -> String {
        let bytes = Array(replacement.utf8)
        var result = [UInt8]()
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "$") || byte == UInt8(ascii: "%"), index + 1 < bytes.count else {
                result.append(byte)
                index += 1
                continue
            }
            let next = bytes[index + 1]
            if next == UInt8(ascii: "{") || (byte == UInt8(ascii: "%") && next >= 0x30 && next <= 0x39) {
                throw RewriteUnsupported(
                    description: "\(location): \(replacement): %N and ${…} are not modelled: "
                        + "decide the rewritten request instead")
            }
            if next >= 0x30 && next <= 0x39 {
                let group = Int(next - 0x30)
                if group < groups.count { result += Array(groups[group].utf8) }
            } else {
                result += next == byte ? [byte] : [byte, next]
            }
            index += 2
        }
        return String(decoding: result, as: UTF8.self)
    }
}
