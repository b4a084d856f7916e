/// `config_check_cond()` for one request with every field known (lighttpd's state once the request
/// headers are parsed): a nested condition needs its parent true, an `else` branch needs the branch before
/// it to have been evaluated false (not skipped), and `else { … }` is then true.
struct Evaluator {
    private enum Outcome { case yes, no, skipped }
    private let nodes: [ContextNode]
    private let request: RequestView
    private var outcomes: [Outcome?]

    init(nodes: [ContextNode], request: RequestView) {
        self.nodes = nodes
        self.request = request
        self.outcomes = Array(repeating: nil, count: nodes.count)
    }

    /// Whether lighttpd applies context `index`'s settings to the request.
    mutating func applies(_ index: Int) -> Bool {
        index == 0 || outcome(index) == .yes
    }

    private mutating func outcome(_ index: Int) -> Outcome {
        if let known = outcomes[index] { return known }
        let node = nodes[index]
        let result: Outcome
        if let parent = node.parent, parent != 0, outcome(parent) != .yes {
            result = .skipped
        } else if let previous = node.previous, outcome(previous) != .no {
            result = .skipped
        } else if node.isElse {
            result = .yes
        } else {
            result = node.condition?.holds(for: request) == true ? .yes : .no
        }
        outcomes[index] = result
        return result
    }
}
