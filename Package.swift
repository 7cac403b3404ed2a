// swift-tools-version: 6.0
import PackageDescription

/// Generic code (FlowSpace's interval and segment maps) is specialized across modules; without it the lowering of
/// 100,000 rules spends most of its time in generic metadata lookups (measured: 7.5 s -> 2.9 s compile).
let optimized: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
  name: "conduit",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "conduit", targets: ["conduit"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
  ],
  targets: [
    .target(name: "FlowSpace", swiftSettings: optimized),
    .target(name: "BaselineFormat", swiftSettings: optimized),
    .target(name: "Advisories"),
    .target(
      name: "PolicyLanguage", dependencies: [.product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: optimized),
    .target(
      name: "PolicyModel",
      dependencies: [
        "PolicyLanguage", "FlowSpace", "BaselineFormat", .product(name: "Crypto", package: "swift-crypto"),
      ], swiftSettings: optimized),
    .target(
      name: "PolicyChecker", dependencies: ["PolicyModel", "PolicyLanguage", "FlowSpace"], swiftSettings: optimized),
    .target(
      name: "FirewallIR", dependencies: ["PolicyModel", "PolicyLanguage", "FlowSpace"], swiftSettings: optimized),
    .target(
      name: "PolicyAnalysis", dependencies: ["FirewallIR", "PolicyModel", "PolicyLanguage", "FlowSpace", "Advisories"]),
    .systemLibrary(name: "CNetlink", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
    .systemLibrary(name: "CNftnl", pkgConfig: "libnftnl", providers: [.apt(["libnftnl-dev"])]),
    .target(name: "Conntrack", dependencies: ["CNetlink", "FlowSpace"]),
    .target(
      name: "NftablesBackend",
      dependencies: [
        "FirewallIR", "PolicyLanguage", "FlowSpace", "CNftnl", "CNetlink",
        .product(name: "Crypto", package: "swift-crypto"),
      ]),
    .target(name: "IptablesBackend", dependencies: ["FirewallIR", "PolicyLanguage", "FlowSpace"]),
    .target(
      name: "FuzzEntries",
      dependencies: [
        "Advisories", "PolicyChecker", "PolicyModel", "PolicyLanguage", "BaselineFormat", "NftablesBackend",
        .product(name: "Crypto", package: "swift-crypto"),
      ]),
    .target(
      name: "ConduitKit",
      dependencies: [
        "PolicyChecker", "PolicyModel", "PolicyLanguage", "FirewallIR", "NftablesBackend", "IptablesBackend",
        "Conntrack",
        "PolicyAnalysis", "FlowSpace", "Advisories",
      ], swiftSettings: optimized),
    .executableTarget(
      name: "conduit",
      dependencies: [
        "ConduitKit", "PolicyLanguage", "PolicyModel", "PolicyAnalysis",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .target(
      name: "PolicyTestSupport", dependencies: ["FlowSpace", "PolicyChecker", "ConduitKit"],
      path: "Tests/PolicyTestSupport"),
    .testTarget(name: "FlowSpaceTests", dependencies: ["FlowSpace"]),
    .testTarget(
      name: "AdvisoriesTests", dependencies: ["Advisories"], exclude: ["Golden"], resources: [.copy("Fixtures")]),
    .testTarget(name: "BaselineFormatTests", dependencies: ["BaselineFormat"], exclude: ["Fixtures"]),
    .testTarget(name: "PolicyLanguageTests", dependencies: ["PolicyLanguage"], resources: [.copy("Fixtures")]),
    .testTarget(name: "PolicyModelTests", dependencies: ["PolicyModel"], resources: [.copy("Fixtures")]),
    .testTarget(
      name: "PolicyCheckerTests", dependencies: ["PolicyChecker", "ConduitKit"], resources: [.copy("Fixtures")]),
    .testTarget(
      name: "ConduitCLITests", dependencies: ["conduit", "PolicyTestSupport"], exclude: ["Golden"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "KernelTests",
      dependencies: [
        "FlowSpace", "PolicyModel", "PolicyLanguage", "PolicyChecker", "FirewallIR", "NftablesBackend",
        "IptablesBackend", "Conntrack", "PolicyAnalysis", "PolicyTestSupport", "ConduitKit", "conduit",
        .product(name: "Crypto", package: "swift-crypto"),
      ]),
    .testTarget(
      name: "FirewallIRTests", dependencies: ["FirewallIR", "PolicyChecker", "PolicyTestSupport", "ConduitKit"]),
    .testTarget(
      name: "PolicyAnalysisTests", dependencies: ["PolicyAnalysis", "PolicyChecker", "PolicyTestSupport", "ConduitKit"]),
    .testTarget(
      name: "ConduitKitTests",
      dependencies: ["ConduitKit", "FirewallIR", "NftablesBackend", "PolicyLanguage", "PolicyModel"]),
    .testTarget(name: "FuzzEntriesTests", dependencies: ["FuzzEntries"], resources: [.copy("Fixtures")]),
    .testTarget(name: "ConntrackTests", dependencies: ["Conntrack", "PolicyTestSupport"]),
    .testTarget(
      name: "BackendTests",
      dependencies: [
        "NftablesBackend", "IptablesBackend", "FirewallIR", "PolicyChecker", "PolicyTestSupport", "ConduitKit",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      exclude: ["Golden"]),
  ]
)

/// The libFuzzer executables (scripts/fuzz), one per input reader, each calling its `FuzzEntries` entry. They exist
/// only when CONDUIT_FUZZ=1, so the normal build and tests never need the sanitizers; scripts/fuzz builds them with
/// `-sanitize=fuzzer,address` in their own scratch path.
let fuzzTargets = ["PolicyFuzzer", "CSVBaselineFuzzer", "JSONBaselineFuzzer", "NftArtifactFuzzer", "CSAFFuzzer"]
if Context.environment["CONDUIT_FUZZ"] == "1" {
  package.targets.append(.target(name: "FuzzDriver", dependencies: ["FlowSpace"], path: "Fuzz/FuzzDriver"))
  package.targets += fuzzTargets.map {
    .executableTarget(name: $0, dependencies: ["FuzzDriver", "FuzzEntries"], path: "Fuzz/\($0)")
  }
  package.products += fuzzTargets.map { .executable(name: $0, targets: [$0]) }
}
