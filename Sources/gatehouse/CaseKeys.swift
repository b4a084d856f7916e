import GatehouseCore

/// The keys a `gatehouse test` case may have: any other is a mistake (`"statuss": 0` would
/// otherwise silently weaken the test), reported with the closest key the format has.
enum CaseKeys {
    static let testCase = ["name", "request", "token", "claims", "anonymous", "now", "expect"]
    static let request = ["method", "path", "query", "host", "remote_ip", "scheme", "server_socket", "headers"]
    static let expect = ["decision", "status", "reason", "rule", "headers", "env", "www_authenticate"]

    static func check(_ test: JSONObject, name: String) throws {
        try check(test, known: testCase, place: "the case", name: name)
        if let object = test["request"]?.objectValue {
            try check(object, known: request, place: "\"request\"", name: name)
        }
        if let object = test["expect"]?.objectValue {
            try check(object, known: expect, place: "\"expect\"", name: name)
        }
    }

    private static func check(_ object: JSONObject, known: [String], place: String, name: String) throws {
        for key in object.members.map(\.key) where !known.contains(key) {
            let distance = { (candidate: String) in Directive.editDistance(Array(candidate.utf8), Array(key.utf8)) }
            let places = [(testCase, "the case"), (request, "\"request\""), (expect, "\"expect\"")]
            let candidates = places.flatMap { keys, owner in keys.map { (key: $0, owner: owner) } }
            let nearest = candidates.min { distance($0.key) < distance($1.key) }!
            let hint =
                nearest.owner == place
                ? "did you mean \"\(nearest.key)\"?" : "did you mean \"\(nearest.key)\" (a key of \(nearest.owner))?"
            throw UsageError(
                "\(name): unknown key \"\(key)\" in \(place): \(hint) "
                    + "(\(place) has \(known.map { "\"\($0)\"" }.joined(separator: ", ")))")
        }
    }
}
