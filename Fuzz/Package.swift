// swift-tools-version: 6.2
// libFuzzer targets (scripts/fuzz/fuzz.sh builds them with -sanitize=fuzzer): kept out of the main
// package, whose normal builds cannot link a target without main.
import PackageDescription

let package = Package(
    name: "GatehouseFuzz",
    dependencies: [.package(name: "Gatehouse", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(
            name: "FuzzToken", dependencies: ["FuzzDriver", .product(name: "GatehouseCore", package: "Gatehouse")]),
        .executableTarget(
            name: "FuzzPolicy", dependencies: ["FuzzDriver", .product(name: "GatehouseCore", package: "Gatehouse")]),
        .executableTarget(
            name: "FuzzLighttpdConf",
            dependencies: ["FuzzDriver", .product(name: "LighttpdConfig", package: "Gatehouse")]),
    ]
)
