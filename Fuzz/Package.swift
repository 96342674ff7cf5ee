// swift-tools-version:6.0
//
// libFuzzer targets for Pullwarden's parsers (docs/fuzzing.md). A package of its own, so the main
// build, `swift test` and CI never build fuzzers; `scripts/fuzz` builds and runs them.
//
// The main package exports no library product, so the core is compiled here from the same sources
// through the symlinks under Core/ (same targets, same settings: keep them equal to the main
// Package.swift's).
import PackageDescription

/// One executable per fuzz target; scripts/fuzz knows each one's seeds.
let fuzzTargets = [
  "FuzzProvideRequest",
  "FuzzConfigYAML",
  "FuzzConfigJSON",
  "FuzzDockerConfig",
  "FuzzSecretFile",
  "FuzzJWT",
  "FuzzPullRecord",
  "FuzzCredentialExpiry",
  "FuzzVerifyRequest",
  "FuzzVerifyBatch",
  "FuzzImageReference",
  "FuzzImageMatching",
]

let package = Package(
  name: "pullwarden-fuzz",
  targets: [
    .target(name: "CJansson", path: "Core/CJansson", linkerSettings: [.linkedLibrary("jansson")]),
    .target(name: "CYAML", path: "Core/CYAML", linkerSettings: [.linkedLibrary("yaml")]),
    .target(name: "CLibmd", path: "Core/CLibmd", linkerSettings: [.unsafeFlags(["-Xlinker", "-l:libmd.a"])]),
    .target(name: "CCurl", path: "Core/CCurl", linkerSettings: [.linkedLibrary("dl")]),
    .target(
      name: "PullwardenCore",
      dependencies: ["CJansson", "CCurl", "CYAML", "CLibmd"],
      path: "Core/PullwardenCore",
      swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]
    ),
    .target(name: "FuzzDriver"),
    .target(name: "FuzzSupport", dependencies: ["PullwardenCore", "FuzzDriver"]),
  ] + fuzzTargets.map { name in
    .executableTarget(name: name, dependencies: ["PullwardenCore", "FuzzSupport"])
  },
  swiftLanguageModes: [.v6]
)
