/// One configuration context while the file is read: lighttpd's `data_config`. The global context is
/// node 0; every condition that opens a block is a node, numbered in the order lighttpd numbers them
/// (`context_ndx`, the "# block N" of `lighttpd -p`).
struct ContextNode: Sendable {
    /// lighttpd's key for the context: the parent's key, " / ", then the condition text. Conditions are
    /// looked up by it (ASCII case-insensitively), so the same test written twice under the same
    /// parent is one context.
    var key: [UInt8]
    /// Where the condition text starts in `key`.
    var conditionStart: Int
    /// nil for the global context and for an `else { … }` block.
    var condition: Condition?
    var isElse = false
    var parent: Int?
    /// The `else` chain: the branch before this one, and after.
    var previous: Int?
    var next: Int?
    var children: [Int] = []
    /// The assignments, in lighttpd's order.
    var entries: [Entry] = []
    let location: SourceLocation

    struct Entry: Sendable {
        var key: String
        var value: Value
        var location: SourceLocation
    }

    /// The condition as lighttpd prints it: `$HTTP["url"] =^ "/api/"`.
    var conditionText: String {
        String(decoding: key[conditionStart...], as: UTF8.self)
    }

    func entryIndex(_ key: String) -> Int? {
        entries.firstIndex { Value.sameKey($0.key, key) }
    }

    /// `array_extract_element_klen()`: the last entry moves into the hole.
    mutating func extractEntry(at index: Int) -> Entry {
        let entry = entries[index]
        let last = entries.removeLast()
        if index < entries.count { entries[index] = last }
        return entry
    }

    static func sameKey(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { Value.lowercased($0) == Value.lowercased($1) }
    }
}
