/// A string that ends in bytes nobody can choose without a secret — a token's signature, a sealed
/// cookie's GCM tag — as the key of a table only authenticated strings are put in. Hashing reads
/// the length and the last 32 bytes (so a lookup does not hash a whole token or cookie: a request
/// can look up any string, but only a verified one is ever inserted, so nobody can fill a table
/// with keys that collide); equality compares every byte. The request's own string is the key:
/// nothing is copied to look it up.
struct TailHashedKey: Hashable {
    let text: String

    func hash(into hasher: inout Hasher) {
        let utf8 = text.utf8
        hasher.combine(utf8.count)
        let hashed: Void? = utf8.withContiguousStorageIfAvailable { bytes in
            hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes).suffix(32)))
        }
        if hashed == nil { for byte in utf8.suffix(32) { hasher.combine(byte) } }
    }

    static func == (a: TailHashedKey, b: TailHashedKey) -> Bool { a.text.sameBytes(b.text) }
}
