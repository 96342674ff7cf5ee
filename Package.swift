// swift-tools-version:6.0
//
// Pullwarden: a kubelet image credential provider (exec plugin) with KEP-2535-style pull records.
//
// Layout, from the bottom up:
//   C shims        CJansson (all JSON), CLibmd (SHA-256, libmd, linked statically),
//                  CCurl (all HTTP; libcurl is dlopen'd on first use)
//   core library   PullwardenCore: protocol types, image matching, sources, records, verification
//   executables    pullwarden (thin command tree), pullwarden-fixtures (golden fixture runner)
//   plugins        check-fixtures (runs Fixtures/ through the built binary)
import PackageDescription

let package = Package(
  name: "pullwarden",
  products: [
    .executable(name: "pullwarden", targets: ["pullwarden"]),
    .executable(name: "pullwarden-fixtures", targets: ["pullwarden-fixtures"]),
    .plugin(name: "CheckFixtures", targets: ["CheckFixtures"]),
  ],
  // Exact versions: Package.resolved is not committed (the local package copies here have commit ids
  // of their own), so these lines are the only pin.
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
  ],
  targets: [
    // MARK: C shims

    .target(
      name: "CJansson",
      linkerSettings: [.linkedLibrary("jansson")]
    ),
    // libmd's SHA-256, linked statically from Debian's libmd.a: 5 KB of code that hashes fixed-format
    // text (no parsing), one shared library fewer to load on every call and to install on the node.
    .target(
      name: "CLibmd",
      linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libmd.a"])]
    ),
    // libcurl is dlopen'd on first use (see CCurl.h), never linked: only its headers are needed here.
    .target(
      name: "CCurl",
      linkerSettings: [.linkedLibrary("dl")]
    ),

    // MARK: Core library

    .target(
      name: "PullwardenCore",
      dependencies: [
        "CJansson",
        "CCurl",
        "Yams",
        "CLibmd",
      ],
      // Members of modules imported only transitively (Foundation, via Yams) are not visible, so the
      // core cannot slip back into using Foundation on the hot path.
      swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]
    ),

    // MARK: Executables

    .executableTarget(
      name: "pullwarden",
      dependencies: [
        "PullwardenCore",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .target(
      name: "FixtureKit",
      // The local HTTPS token service the tests and fixture cases run against (python3 + openssl).
      resources: [.copy("Resources/token-server.py")]
    ),
    .executableTarget(
      name: "pullwarden-fixtures",
      dependencies: ["FixtureKit"]
    ),

    // MARK: Plugins

    .plugin(
      name: "CheckFixtures",
      capability: .command(
        intent: .custom(verb: "check-fixtures", description: "Run every case under Fixtures/ through the built pullwarden")
      ),
      dependencies: ["pullwarden-fixtures"]
    ),

    // MARK: Tests

    .testTarget(
      name: "PullwardenCoreTests",
      dependencies: ["PullwardenCore", "FixtureKit"]
    ),
    .testTarget(
      name: "PullwardenEndToEndTests",
      dependencies: ["pullwarden", "FixtureKit"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
