#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PullwardenCore

/// One tenant's broken Secret file only affects that tenant: it is skipped with a one-line warning
/// naming the file (and line), the other files are still served, and the answer is cached only as long
/// as a miss, since the skipped file could have held credentials for the image.
@Suite struct SecretFilesTenantInputTests {
  let directory = TemporaryDirectory()
  let now = Timestamp(secondsSinceEpoch: 1_700_000_000)

  private func secret(_ name: String, _ payload: String) -> String {
    """
    kind: Secret
    metadata: {name: \(name), namespace: ns, uid: uid-\(name)}
    type: kubernetes.io/dockerconfigjson
    stringData:
      .dockerconfigjson: '\(payload)'

    """
  }

  private let good = #"{"auths":{"r.io":{"username":"good","password":"good-password"}}}"#

  private func configPath() -> String {
    directory.write(
      "config.yaml",
      "recordsDir: state\ndefaultCacheDuration: 5m\nmissCacheDuration: 10s\nsources: [{name: team, type: secretFiles, matchImages: ['*.io'], directory: secrets}]\n")
  }

  private func provide(_ image: String = "r.io/app", warnings: WarningLog) throws -> Provider.Outcome {
    let provider = Provider(config: try PullwardenConfig.load(path: configPath()))
    let request = try CredentialProviderRequest.decode(requestJSON(image: image).bytes)
    return try provider.provide(request, now: now, diagnostics: warnings.diagnostics, stateDirectory: directory.path + "/state")
  }

  private func users(_ outcome: Provider.Outcome) -> [String] { outcome.response.auth.map(\.credential.username) }

  /// More Secret files than secretFilesPerDirectory: the first ones by name are read, the limit is
  /// named once, and the answer is cached only as long as a miss (a file past the limit could have
  /// held credentials for the image).
  @Test func theFileCountLimitIsNamedAndTheAnswerCachedBriefly() throws {
    directory.write("secrets/a-good.yaml", secret("a", good))
    let limit = TenantLimits.secretFilesPerDirectory
    for index in 0..<limit {
      let fd = open(directory.path + "/secrets/z-\(index).json", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
      #expect(fd >= 0)
      _ = Array("{\"kind\":\"Secret\",\"type\":\"Opaque\",\"metadata\":{\"name\":\"o\(index)\",\"namespace\":\"ns\"}}".utf8)
        .withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      close(fd)
    }
    let warnings = WarningLog()
    let outcome = try provide(warnings: warnings)
    #expect(users(outcome) == ["good"])
    #expect(outcome.response.cacheDuration == .seconds(10))
    let limitLines = warnings.all.filter { $0.contains("(secretFilesPerDirectory)") }
    #expect(limitLines.count == 1, "\(warnings.all.prefix(5))")
    #expect(limitLines.first?.contains("reads only the first \(limit) of the \(limit + 1) Secret files") == true)
  }

  @Test func brokenFilesAreSkippedAndTheOthersServed() throws {
    directory.write("secrets/a-good.yaml", secret("a", good))
    directory.write("secrets/b-bad-yaml.yaml", "kind: Secret\nmetadata: {name: b\n  namespace: [\n")
    directory.write("secrets/c-bad-base64.yaml", "kind: Secret\nmetadata: {name: c, namespace: ns}\ntype: Opaque\ndata:\n  x: '%%%'\n")
    directory.write("secrets/d-bad.json", #"{"kind": "Secret", "#)
    directory.write("secrets/e-bad-payload.yaml", secret("e", #"{"auths": "#))
    try FileIO.replaceFile(
      directory.path + "/secrets/f-not-utf8.yaml", with: Array("kind: Secret\nmetadata: {name: ".utf8) + [0xFF] + Array("}\n".utf8))

    for _ in 0..<2 {
      let warnings = WarningLog()
      let diagnostics = warnings.diagnostics
      let provider = Provider(config: try PullwardenConfig.load(path: configPath()))
      let request = try CredentialProviderRequest.decode(requestJSON(image: "r.io/app").bytes)
      let outcome = try provider.provide(request, now: now, diagnostics: diagnostics, stateDirectory: directory.path + "/state")
      diagnostics.summarize()
      #expect(users(outcome) == ["good"])
      // Capped at missCacheDuration: a skipped file might have held this image's credentials.
      #expect(outcome.response.cacheDuration == .seconds(10))
      let lines = warnings.all
      // Three of the four unreadable files are named; the fourth is counted (bounded stderr).
      #expect(lines.count == 5, "\(lines)")
      #expect(lines.last == "… and 1 more like this (Secret files ignored)")
      #expect(lines.dropLast().allSatisfy { !$0.contains("\n") && $0.contains("source \"team\"") })
      #expect(lines.contains { $0.contains("b-bad-yaml.yaml:3:") })
      #expect(lines.contains { $0.contains("c-bad-base64.yaml:5:3") && $0.contains("base64") })
      #expect(lines.contains { $0.contains("d-bad.json") })
      #expect(lines.contains { $0.contains("Secret ns/e") && $0.contains("e-bad-payload.yaml") })
      // The second round reads the broken files again (they are never indexed) and warns again.
    }
  }

  @Test func aFileThatIsNotUTF8IsNamed() throws {
    directory.write("secrets/a-good.yaml", secret("a", good))
    try FileIO.replaceFile(
      directory.path + "/secrets/f-not-utf8.yaml", with: Array("kind: Secret\nmetadata: {name: ".utf8) + [0xFF] + Array("}\n".utf8))
    let warnings = WarningLog()
    let outcome = try provide(warnings: warnings)
    #expect(users(outcome) == ["good"])
    #expect(warnings.all == [
      "ignoring a Secret file of source \"team\": file is not valid UTF-8 text (\(directory.path)/secrets/f-not-utf8.yaml)"
    ])
  }

  @Test func anAnswerWithNothingSkippedKeepsItsCacheDuration() throws {
    directory.write("secrets/a-good.yaml", secret("a", good))
    let outcome = try provide(warnings: WarningLog())
    #expect(outcome.response.cacheDuration == .minutes(5))
  }

  @Test func aFIFOAmongTheSecretFilesIsSkippedAtOnce() throws {
    directory.write("secrets/a-good.yaml", secret("a", good))
    #expect(mkfifo(directory.path + "/secrets/b-fifo.yaml", 0o600) == 0)
    let warnings = WarningLog()
    let outcome = try provide(warnings: warnings)
    #expect(users(outcome) == ["good"])
    #expect(warnings.all.contains { $0.contains("b-fifo.yaml") && $0.contains("expected a regular file") })
    #expect(outcome.response.cacheDuration == .seconds(10))
  }

  /// Entries without username and password are skipped, and a registry key with a newline and a
  /// terminal escape cannot forge a second log line.
  @Test func emptyEntriesAreSkippedWithAnEscapedKey() throws {
    let payload = #"{"auths":{"evil.io\npullwarden: warning: forged\u001b[0m":{"identitytoken":"t"},"r.io":{"username":"u","password":"p"}}}"#
    directory.write("secrets/a.yaml", secret("a", payload))
    let warnings = WarningLog()
    let outcome = try provide(warnings: warnings)
    #expect(outcome.response.auth.map(\.key) == ["r.io"])
    #expect(warnings.all.count == 1)
    #expect(warnings.all.first == #"ignoring registry "evil.io\npullwarden: warning: forged\x1b[0m" in Secret ns/a (\#(directory.path)/secrets/a.yaml:1:1): it has neither username nor password (identity tokens and credential helpers are not supported)"#)
  }

  /// A malformed registry entry whose key holds a newline: the error naming its place is one line.
  @Test func aNewlineInAKeyInAnErrorStaysOnOneLine() throws {
    directory.write("secrets/a.yaml", secret("a", #"{"auths":{"x.io\npullwarden: forged":"not an object"}}"#))
    let warnings = WarningLog()
    _ = try provide(warnings: warnings)
    // The Secret's warning, then the miss line (r.io has no credential left).
    #expect(warnings.all.count == 2)
    #expect(warnings.all.allSatisfy { !$0.contains("\n") })
    #expect(warnings.all.first?.contains(#"x.io\npullwarden: forged"#) == true)
  }

  /// 500 Opaque Secrets in one List: three warnings and a count, through the whole provide run.
  @Test func repeatedWarningsAreSummarisedInARun() throws {
    var list = "apiVersion: v1\nkind: List\nitems:\n"
    for index in 0..<500 {
      list += "  - {kind: Secret, type: Opaque, metadata: {name: s\(index), namespace: ns}}\n"
    }
    directory.write("secrets/list.yaml", list)
    directory.write("secrets/z-good.yaml", secret("z", good))
    let warnings = WarningLog()
    let output = try ProvideRun.run(
      configPath: configPath(), input: requestJSON(image: "r.io/app").bytes, now: now, diagnostics: warnings.diagnostics)
    #expect(String(decoding: output, as: UTF8.self).contains("good-password"))
    let lines = warnings.all
    #expect(lines.count == 4, "\(lines)")
    #expect(lines.prefix(3).allSatisfy { $0.contains("its type is \"Opaque\"") })
    #expect(lines.last == "… and 497 more like this (Secrets without registry credentials)")
  }
}
