import FixtureKit
import Foundation
import Testing

/// Runs the built `pullwarden` executable as the kubelet does: arguments, stdin, environment.
///
/// The binary is the one SwiftPM built next to this test bundle (the test target depends on the
/// executable target, so `swift test` builds it); `PULLWARDEN_BIN` overrides it, e.g. to test a
/// release build.
enum Pullwarden {
  static let binary: URL = {
    if let override = ProcessInfo.processInfo.environment["PULLWARDEN_BIN"], !override.isEmpty {
      return URL(fileURLWithPath: override)
    }
    return debugBinary
  }()

  /// The debug build next to this test bundle, whatever PULLWARDEN_BIN says: the only one with the
  /// record store's test crash points (`PULLWARDEN_TEST_CRASH_AT`).
  static let debugBinary: URL = {
    let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidates = [bundleDirectory, bundleDirectory.deletingLastPathComponent()].map { $0.appendingPathComponent("pullwarden") }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
  }()

  /// The package's Fixtures folder.
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures")

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool
  }

  /// Runs `pullwarden arguments...` with `stdin`, in `directory`, with a minimal environment plus `environment`.
  ///
  /// A death by signal fails the test, except `expectedSignal` (the crash-point tests kill on purpose).
  static func run(
    _ arguments: [String], stdin: String = "", environment: [String: String] = [:], in directory: String? = nil,
    timeout: TimeInterval = 60, binary: URL = binary, expectedSignal: Int32? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> Result {
    var env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"]
    env.merge(environment) { $1 }
    // The test names resolve for every run, as a node resolves its token service and API server.
    var outcome = try ProcessRunner.run(
      binary, arguments: arguments, stdin: Data(stdin.utf8), environment: env,
      directory: directory.map { URL(fileURLWithPath: $0) }, timeout: timeout, resolvingTestNames: PrivateHosts.available,
      signalLedger: expectedSignal == nil ? ProcessRunner.signalLedger : nil)
    if let expectedSignal, outcome.signal == expectedSignal { outcome.signal = nil }
    return Result(outcome, sourceLocation: sourceLocation)
  }
}

extension Pullwarden.Result {
  /// In an extension so the memberwise initializer stays, for callers that run processes themselves.
  ///
  /// A program that died by a signal fails the test that ran it, whatever that test expected: a
  /// crash is never an answer.
  init(_ outcome: ProcessRunner.Outcome, sourceLocation: SourceLocation = #_sourceLocation) {
    if let signal = outcome.signal {
      Issue.record(
        "pullwarden died by \(ProcessRunner.signalName(signal)); stderr: \(String(decoding: outcome.stderr, as: UTF8.self))",
        sourceLocation: sourceLocation)
    }
    self.init(
      status: outcome.status, stdout: String(decoding: outcome.stdout, as: UTF8.self),
      stderr: String(decoding: outcome.stderr, as: UTF8.self), timedOut: outcome.timedOut)
  }
}

/// Fails the current test when `process`, run by the test itself rather than through `Pullwarden.run`,
/// died by a signal.
func expectNoSignal(_ process: Process, sourceLocation: SourceLocation = #_sourceLocation) {
  if process.terminationReason == .uncaughtSignal {
    Issue.record("\(process.executableURL?.path ?? "a process") died by \(ProcessRunner.signalName(process.terminationStatus))", sourceLocation: sourceLocation)
  }
}

/// A scratch directory for one test, removed afterwards.
final class Scratch {
  let path: String

  init() throws {
    path = FileManager.default.temporaryDirectory.appendingPathComponent("pullwarden-e2e-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  @discardableResult
  func write(_ name: String, _ contents: String) throws -> String {
    let url = URL(fileURLWithPath: path).appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try contents.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }
}

func request(image: String, version: String = "credentialprovider.kubelet.k8s.io/v1", extra: String = "") -> String {
  "{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"\(version)\",\"image\":\"\(image)\"\(extra)}\n"
}

/// Parses one line of JSON output into a dictionary.
func jsonObject(_ text: String) throws -> [String: Any] {
  try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}
