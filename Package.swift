// swift-tools-version:5.9
// rwcnn: random-weight CNNs and what they keep of an image.
// Products: the Swift module `RWCNN`, the C library librwcnn.so (header
// include/rwcnn.h) and the `rwcnn-cli` tool (installed as `rwcnn` by CMake).
import PackageDescription

let linux = TargetDependencyCondition.when(platforms: [.linux])
let here = Context.packageDirectory

let package = Package(
    name: "rwcnn",
    products: [
        // RWCNNErrorText: the LocalizedError conformance (Foundation), apart
        // from the core so that librwcnn.so stays Foundation-free.
        .library(name: "RWCNN", targets: ["RWCNN", "RWCNNErrorText"]),
        .library(name: "rwcnn", type: .dynamic, targets: ["RWCNNCAPI"]),
        .executable(name: "rwcnn-cli", targets: ["rwcnn-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg",
                       providers: [.apt(["libturbojpeg0-dev"]), .brew(["jpeg-turbo"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(
            name: "RWCNN",
            dependencies: ["CPNG", "CTurboJPEG", .target(name: "CBLAS", condition: linux)],
            linkerSettings: [.linkedFramework("Accelerate", .when(platforms: [.macOS]))]),
        .target(name: "RWCNNErrorText", dependencies: ["RWCNN"]),
        // The C ABI: @_cdecl exports only. Linked with the Swift runtime
        // inside and only rwcnn_* symbols visible (exports.map); no
        // Foundation (the core does not use it).
        .systemLibrary(name: "CRWCNN"),
        .target(
            name: "RWCNNCAPI",
            dependencies: ["RWCNN", "CRWCNN"],
            exclude: ["exports.map"],
            linkerSettings: [.unsafeFlags([
                "-static-stdlib",
                "-Xlinker", "--version-script=\(here)/Sources/RWCNNCAPI/exports.map",
                "-Xlinker", "-soname=librwcnn.so.0",
                "-Xlinker", "--no-undefined",
            ], .when(platforms: [.linux]))]),
        .executableTarget(
            name: "rwcnn-cli",
            dependencies: ["RWCNN", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            // Installed as `rwcnn`: runs without the Swift toolchain on the
            // library path (Foundation's static parts need their shims named).
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-Xlinker", "--start-group",
                                           "-l_FoundationCollections", "-l_FoundationCShims", "-lswiftSynchronization",
                                           "-Xlinker", "--end-group"], .when(platforms: [.linux]))]),
        .testTarget(name: "RWCNNTests", dependencies: ["RWCNN", "RWCNNErrorText"], exclude: ["Data"]),
    ],
    swiftLanguageVersions: [.v5]
)
