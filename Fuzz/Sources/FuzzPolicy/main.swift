#if canImport(Glibc)
import Glibc
#endif
import GatehouseCore

// Any bytes as a rule pattern and expression (split at the first newline); must never trap.
func test(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    let pattern = parts.count == 2 ? String(parts[0]) : "/api/{tenant}/"
    let expression = String(parts.last ?? "")
    if let rules = try? RuleSet([(pattern, expression)]) {
        var method = "GET", path = "/api/acme/x"
        _ = method.withUTF8 { m in path.withUTF8 { p in rules.select(method: m, path: p, explain: true) } }
        _ = rules.unreachable
    }
    _ = try? Setting.compile(.roleInherits, .list([("a", .string(expression))]))
    return 0
}

// libFuzzer's driver, called from this program's own main (SwiftPM gives executables theirs).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in test(data ?? UnsafePointer(bitPattern: 1)!, size) })
