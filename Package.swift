// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "Gatehouse",
    products: [
        .library(name: "GatehouseCore", type: .static, targets: ["GatehouseCore"]),
        .library(name: "LighttpdConfig", targets: ["LighttpdConfig"]),
        .executable(name: "gatehouse", targets: ["gatehouse"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // jansson: only the tests' reference for the core's own JSON reader (JSONReaderTests).
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        // PCRE2, the regular expressions lighttpd itself uses, for the `matches` operator.
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        // The hand-written C ABI: the module's shim includes it, and GatehouseCore implements it
        // with `@c @implementation`, so the compiler rejects any drift between the two.
        .systemLibrary(name: "CGatehouse"),
        // libcurl for the calls to the identity provider made off lighttpd's loop.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(
            name: "GatehouseCore",
            dependencies: ["COpenSSL", "CPCRE2", "CGatehouse", "CCurl"]
        ),
        .executableTarget(
            name: "gatehouse",
            dependencies: [
                "GatehouseCore",
                "LighttpdConfig",
                "COpenSSL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Reads lighttpd.conf offline and picks the gatehouse.* values lighttpd 1.4.69 would.
        .target(name: "LighttpdConfig", dependencies: ["GatehouseCore"]),
        .testTarget(name: "GatehouseCoreTests", dependencies: ["GatehouseCore", "CJansson"], exclude: ["Fixtures"]),
        .testTarget(name: "LighttpdConfigTests", dependencies: ["LighttpdConfig"], exclude: ["Fixtures"]),
    ]
)
