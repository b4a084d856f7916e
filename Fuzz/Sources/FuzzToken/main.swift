#if canImport(Glibc)
import Glibc
#endif
import GatehouseCore

// Any bytes as a token, checked against a fixed key set; must never trap.
nonisolated(unsafe) let keys = try! KeySet.parse(Array("""
    {"keys":[{"kty":"oct","kid":"k","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"},
     {"kty":"EC","crv":"P-256","kid":"e","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}
    """.utf8), source: "fuzz")
nonisolated(unsafe) let requirements = TokenRequirements(issuers: ["joe"], audiences: nil, algorithms: Set(JWSAlgorithm.allCases))
nonisolated(unsafe) let cache = TokenCache(capacity: 64)

func test(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let token = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = TokenVerifier.verify(token, keys: keys, requirements: requirements, now: 1_300_819_000, cache: cache)
    _ = JSON.parse(Array(UnsafeBufferPointer(start: data, count: size)))
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
