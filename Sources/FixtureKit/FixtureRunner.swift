import Foundation

/// Runs fixture cases through a built `pullwarden` binary and compares the results.
public struct FixtureRunner: Sendable {
  public var binary: URL
  /// Values substituted for `${NAME}` in the copied case files.
  public var variables: [String: String]
  /// A case running longer than this is killed and fails.
  public var timeout: TimeInterval

  /// Why the token test server is not running, for cases that need it.
  public var serverProblem: String?

  public init(binary: URL, variables: [String: String] = [:], timeout: TimeInterval = 60, serverProblem: String? = nil) {
    self.binary = binary
    self.variables = variables
    self.timeout = timeout
    self.serverProblem = serverProblem
  }

  /// Whether any of `cases` uses the token test server's variables.
  public static func needsTokenServer(_ cases: [FixtureCase]) -> Bool {
    cases.contains { fixture in
      let files = FileManager.default.enumerator(at: fixture.directory, includingPropertiesForKeys: nil)
      while let file = files?.nextObject() as? URL {
        if let text = try? String(contentsOf: file, encoding: .utf8), text.contains("${TOKEN_") { return true }
      }
      return false
    }
  }

  /// What one case left behind, for checks beyond the expected files (`run(_:inspect:)`).
  public struct Workspace {
    /// The case's copy, after the run: its inputs (variables substituted) and whatever was written.
    public var directory: URL
    /// Paths (relative to `directory`) and contents of the files before the run.
    public var inputs: [String: Data]
    public var stdout: Data
    public var stderr: Data
    /// The command line: only `provide`'s first stdout line (the response) may hold credentials.
    public var arguments: [String] = []
  }

  /// Runs one case. Every case is also scanned for secrets out of place (`SecretScan`); `inspect`
  /// sees the workspace before it is removed and returns further failures.
  public func run(_ fixture: FixtureCase, inspect: ((Workspace) -> [String])? = nil) -> FixtureResult {
    var failures: [String] = []
    do {
      let workspace = try prepareCopy(of: fixture)
      defer { try? FileManager.default.removeItem(at: workspace.deletingLastPathComponent()) }
      let inputs = Self.files(in: workspace)
      let arguments = try lines(of: workspace.appendingPathComponent("args"))
      let stdin = try stdinBytes(in: workspace)
      var environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"]
      if let envFile = try? lines(of: workspace.appendingPathComponent("env")) {
        for line in envFile {
          guard let equals = line.firstIndex(of: "=") else { continue }
          environment[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
      }
      // Every case resolves the test names (the token server's URLs name hosts), as a node would.
      let outcome = try ProcessRunner.run(
        binary, arguments: arguments, stdin: stdin, environment: environment, directory: workspace, timeout: timeout,
        resolvingTestNames: PrivateHosts.available)
      if outcome.timedOut { failures.append("timed out after \(Int(timeout)) s") }
      if let signal = outcome.signal { failures.append("died by \(ProcessRunner.signalName(signal))") }
      let casePath = workspace.path
      let stdout = String(decoding: outcome.stdout, as: UTF8.self).replacingOccurrences(of: casePath, with: "$CASE")
      let stderr = String(decoding: outcome.stderr, as: UTF8.self).replacingOccurrences(of: casePath, with: "$CASE")

      let expectedExit = (try? String(contentsOf: workspace.appendingPathComponent("expected-exit"), encoding: .utf8))
        .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
      if outcome.signal == nil && outcome.status != expectedExit {
        failures.append("exit status \(outcome.status), expected \(expectedExit)")
      }
      failures += compareStdout(stdout, in: workspace)
      failures += compareStderr(stderr, in: workspace)
      failures += ExpectedFiles.compare(in: workspace)
      let after = Workspace(
        directory: workspace, inputs: inputs, stdout: outcome.stdout, stderr: outcome.stderr, arguments: arguments)
      failures += SecretScan.check(after)
      if let inspect { failures += inspect(after) }
      if !failures.isEmpty {
        failures.append("stdout was: \(stdout.isEmpty ? "(empty)" : stdout)")
        failures.append("stderr was: \(stderr.isEmpty ? "(empty)" : stderr)")
      }
    } catch {
      failures.append("could not run the case: \(error)")
    }
    return FixtureResult(fixture: fixture, failures: failures)
  }

  /// Every regular file under `directory`, by relative path, with its contents.
  public static func files(in directory: URL) -> [String: Data] {
    var found: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey])
    while let file = enumerator?.nextObject() as? URL {
      guard (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
        let data = try? Data(contentsOf: file)
      else { continue }
      found[String(file.path.dropFirst(directory.path.count + 1))] = data
    }
    return found
  }

  // MARK: Preparing

  /// Copies the case into a new temporary folder and substitutes variables in its text files.
  private func prepareCopy(of fixture: FixtureCase) throws -> URL {
    // Unique per run, for cases whose server-side fault counters must start fresh.
    let runID = UUID().uuidString.lowercased()
    let parent = FileManager.default.temporaryDirectory.appendingPathComponent("pullwarden-fixture-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
    let copy = parent.appendingPathComponent(fixture.directory.lastPathComponent)
    try FileManager.default.copyItem(at: fixture.directory, to: copy)
    if let enumerator = FileManager.default.enumerator(at: copy, includingPropertiesForKeys: [.isRegularFileKey]) {
      for case let file as URL in enumerator {
        guard (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
          var text = try? String(contentsOf: file, encoding: .utf8), text.contains("${")
        else { continue }
        for (name, value) in variables { text = text.replacingOccurrences(of: "${\(name)}", with: value) }
        text = text.replacingOccurrences(of: "${CASE}", with: copy.path)
        text = text.replacingOccurrences(of: "${CASE_URL_ENCODED}", with: Self.percentEncoded(copy.path))
        text = text.replacingOccurrences(of: "${RUN_ID}", with: runID)
        if text.contains("${TOKEN_") {
          throw MissingVariable(
            description: "\(file.lastPathComponent) uses the token test server (${TOKEN_...}), which is not running: \(serverProblem ?? "no variables given")")
        }
        try text.write(to: file, atomically: true, encoding: .utf8)
      }
    }
    return copy
  }

  private func stdinBytes(in workspace: URL) throws -> Data {
    for name in ["stdin", "request.json"] {
      let url = workspace.appendingPathComponent(name)
      if FileManager.default.fileExists(atPath: url.path) { return try Data(contentsOf: url) }
    }
    return Data()
  }

  private func lines(of url: URL) throws -> [String] {
    try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
      .map(String.init).filter { !$0.isEmpty }
  }

  // MARK: Comparing

  private func compareStdout(_ stdout: String, in workspace: URL) -> [String] {
    let jsonURL = workspace.appendingPathComponent("expected-stdout.json")
    let exactURL = workspace.appendingPathComponent("expected-stdout")
    if let expectedText = try? String(contentsOf: jsonURL, encoding: .utf8) {
      var problems: [String] = []
      if !stdout.hasSuffix("\n") || stdout.dropLast().contains("\n") {
        problems.append("stdout is not exactly one newline-terminated line")
      }
      guard let actual = try? JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed]) else {
        return problems + ["stdout is not JSON"]
      }
      guard let expected = try? JSONSerialization.jsonObject(with: Data(expectedText.utf8), options: [.fragmentsAllowed]) else {
        return problems + ["expected-stdout.json is not JSON"]
      }
      if !JSONComparison.equal(actual, expected) {
        problems.append("stdout differs from expected-stdout.json: expected \(JSONComparison.canonical(expected))")
      }
      return problems
    }
    if let expected = try? String(contentsOf: exactURL, encoding: .utf8) {
      return stdout == expected ? [] : ["stdout differs from expected-stdout"]
    }
    return stdout.isEmpty ? [] : ["stdout should be empty"]
  }

  private func compareStderr(_ stderr: String, in workspace: URL) -> [String] {
    guard let expected = try? lines(of: workspace.appendingPathComponent("expected-stderr")) else {
      return stderr.isEmpty ? [] : ["stderr should be empty"]
    }
    return expected.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !stderr.contains($0) }
      .map { "stderr lacks: \($0)" }
  }
}

private struct MissingVariable: Error, CustomStringConvertible {
  var description: String
}

/// Order-insensitive equality for values from JSONSerialization.
enum JSONComparison {
  static func equal(_ a: Any, _ b: Any) -> Bool {
    canonical(a) == canonical(b)
  }

  /// A canonical text form: object keys sorted, numbers and strings as JSON.
  static func canonical(_ value: Any) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]) else {
      return String(describing: value)
    }
    return String(decoding: data, as: UTF8.self)
  }
}

extension FixtureRunner {
  /// `text` with every byte outside letters, digits and `-._~` percent-encoded, so a path can sit in
  /// one URL path segment (the token server's `api=` scenario option).
  public static func percentEncoded(_ text: String) -> String {
    var output = ""
    for byte in text.utf8 {
      let isPlain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
      output += isPlain ? String(UnicodeScalar(byte)) : "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
    }
    return output
  }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
