#if canImport(Glibc)
import Glibc
#endif
import LighttpdConfig

// Any bytes as a lighttpd.conf (no includes, no shell); parsed, then evaluated for a request.
func test(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let config = try? LighttpdConfig.parse(text, path: "/nonexistent/fuzz.conf", allowShell: false, environment: [:]) {
        _ = config.directives(for: RequestFacts(path: "/api/x", host: "example.test"), prefix: "")
    }
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
