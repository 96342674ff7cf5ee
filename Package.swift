// swift-tools-version:6.0
//
// Pullwarden: a kubelet image credential provider (exec plugin) with KEP-2535-style pull records.
//
// Layout, from the bottom up:
//   C shims        CJansson (all JSON), CYAML (YAML, libyaml), CLibmd (SHA-256, libmd, linked statically),
//                  CFileSystem (renameat2), CCurl (all HTTP; libcurl is dlopen'd on first use)
//   core library   PullwardenCore: protocol types, image matching, sources, records, verification
//   executables    pullwarden (thin command tree, no dependencies), pullwarden-fixtures (golden fixture runner)
//   plugins        check-fixtures (runs Fixtures/ through the built binary)
import PackageDescription

// The binary the kubelet starts on every pull imports neither _Concurrency nor _StringProcessing, which
// Swift imports into every module unless told not to. Linking them costs each call start-up work for
// code it never runs: libdispatch's constructor, and about 7,000 relocations of their metadata and
// regex tables (docs/design-decisions.md, "Start-up"). Tests and the fixture runner keep them.
let withoutImplicitRuntimeModules: [SwiftSetting] = [
  .unsafeFlags([
    "-Xfrontend", "-disable-implicit-concurrency-module-import",
    "-Xfrontend", "-disable-implicit-string-processing-module-import",
  ])
]

let package = Package(
  name: "pullwarden",
  products: [
    .executable(name: "pullwarden", targets: ["pullwarden"]),
    .executable(name: "pullwarden-fixtures", targets: ["pullwarden-fixtures"]),
    .plugin(name: "CheckFixtures", targets: ["CheckFixtures"]),
  ],
  // No package dependencies: YAML and SHA-256 come from C libraries (libyaml, libmd) and the command
  // line is parsed in Sources/pullwarden, because Yams, swift-crypto and swift-argument-parser each
  // linked Foundation (Yams with ICU) into the binary the kubelet starts on every pull.
  dependencies: [],
  targets: [
    // MARK: C shims

    .target(
      name: "CJansson",
      linkerSettings: [.linkedLibrary("jansson")]
    ),
    // libyaml, linked dynamically like jansson: it parses tenant input (Secret files), so the node's
    // security updates of libyaml-0-2 apply without rebuilding Pullwarden.
    .target(
      name: "CYAML",
      linkerSettings: [.linkedLibrary("yaml")]
    ),
    // libmd's SHA-256, linked statically from Debian's libmd.a: 5 KB of code that hashes fixed-format
    // text (no parsing), one shared library fewer to load on every call and to install on the node.
    .target(
      name: "CLibmd",
      linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libmd.a"])]
    ),
    // File-system calls that need _GNU_SOURCE (renameat2's exchange, memfd_create).
    .target(name: "CFileSystem"),
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
        "CYAML",
        "CLibmd",
        "CFileSystem",
      ],
      // Members of modules imported only transitively are not visible, so the core cannot slip into
      // using something (Foundation, say) that only a dependency imports.
      swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")] + withoutImplicitRuntimeModules
    ),

    // The commit and its date, stamped by scripts/build-release (-Xcc -D...); "unknown" otherwise.
    .target(name: "CBuildInfo"),
    // Gives the statically linked Swift runtime its argv without reading /proc/self/maps (release only).
    .target(name: "CArguments"),

    // MARK: Executables

    .executableTarget(
      name: "pullwarden",
      dependencies: ["PullwardenCore", "CBuildInfo", "CArguments", "CFileSystem"],
      swiftSettings: withoutImplicitRuntimeModules
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
      dependencies: ["PullwardenCore", "FixtureKit"],
      // Test vectors computed by Go (scripts/generate-go-vectors), read by path from the tests.
      exclude: ["GoVectors"]
    ),
    .testTarget(
      name: "PullwardenEndToEndTests",
      dependencies: ["pullwarden", "FixtureKit"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
