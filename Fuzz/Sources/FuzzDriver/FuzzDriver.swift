#if canImport(Glibc)
    import Glibc
#endif

/// Runs libFuzzer's driver (`LLVMFuzzerRunDriver`) from a SwiftPM executable's own main,
/// calling `test` with each input.
public func fuzz(_ test: @escaping (UnsafeBufferPointer<UInt8>) -> Void) -> Never {
    target = test
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(
        LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            target?(UnsafeBufferPointer(start: data, count: size))
            return 0
        })
}

nonisolated(unsafe) private var target: ((UnsafeBufferPointer<UInt8>) -> Void)?

// swift-format-ignore: AlwaysUseLowerCamelCase
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
