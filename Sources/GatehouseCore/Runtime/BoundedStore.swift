/// A dictionary that holds at most `capacity` keys: adding a new key past that drops the
/// oldest one added (first in, first out). The token cache uses it to bound its memory. Not thread-safe.
struct BoundedStore<Key: Hashable, Value> {
    let capacity: Int
    private var values: [Key: Value] = [:]
    /// Keys in the order they were added, as a ring: the slot to reuse next is `oldest`. A key
    /// removed early stays here until its slot comes round (then dropping it is a no-op).
    private var order: [Key] = []
    private var oldest = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
        values.reserveCapacity(self.capacity)
    }

    var count: Int { values.count }

    subscript(key: Key) -> Value? { values[key] }

    mutating func set(_ value: Value, for key: Key) {
        guard capacity > 0 else { return }
        if values.updateValue(value, forKey: key) != nil { return }
        if order.count < capacity {
            order.append(key)
        } else {
            values[order[oldest]] = nil
            order[oldest] = key
            oldest = (oldest + 1) % capacity
        }
    }

    mutating func remove(_ key: Key) {
        values[key] = nil
    }

    mutating func removeAll() {
        values.removeAll(keepingCapacity: true)
        order.removeAll(keepingCapacity: true)
        oldest = 0
    }
}
