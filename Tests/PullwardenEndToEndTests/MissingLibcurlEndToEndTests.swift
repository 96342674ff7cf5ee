import FixtureKit
import Foundation
import Testing

/// The release binary loads libcurl at run time, and only for HTTPS sources, so a node without
/// libcurl4 still runs file sources. There, HTTPS sources must fail with a clear error and file sources
/// must not notice.
///
/// libcurl is hidden by bind-mounting /dev/null over it in a private mount namespace (`unshare -m`),
/// which needs root; where that is not allowed the test is skipped and says so.
@Suite struct MissingLibcurlEndToEndTests {
  /// Runs `pullwarden arguments...` with libcurl.so.4 replaced by an empty file.
  static func runWithoutLibcurl(_ arguments: [String], stdin: String, in directory: String) throws -> Pullwarden.Result {
    let script = """
      library=$(ldconfig -p | sed -n 's/.*libcurl\\.so\\.4 .*=> //p' | head -n 1)
      [ -n "$library" ] || { echo "libcurl.so.4 not found by ldconfig" >&2; exit 99; }
      mount --bind /dev/null "$library" || exit 98
      exec "$0" "$@"
      """
    let outcome = try ProcessRunner.run(
      URL(fileURLWithPath: "/usr/bin/unshare"), arguments: ["-m", "sh", "-c", script, Pullwarden.binary.path] + arguments,
      stdin: Data(stdin.utf8), environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"],
      directory: URL(fileURLWithPath: directory), timeout: 60)
    return Pullwarden.Result(outcome)
  }

  /// Whether this machine lets the tests hide a library (root, unshare and bind mounts allowed).
  static let canHideLibraries: Bool = {
    guard let scratch = try? Scratch(),
      let result = try? runWithoutLibcurl(["--version"], stdin: "", in: scratch.path)
    else { return false }
    return result.status == 0
  }()

  @Test(.enabled(if: canHideLibraries, "cannot hide libcurl here: needs root, unshare -m and bind mounts"))
  func httpsSourceNamesTheMissingLibraryAndFileSourcesStillWork() throws {
    let scratch = try Scratch()
    let token = makeJWT(expiresIn: 3600)
    try scratch.write(
      "exchange.yaml",
      """
      recordsDir: records
      sources:
        - {name: exchange, type: tokenExchange, matchImages: ["registry.example.com"],
           endpoint: "https://127.0.0.1:9/token", audience: registry.example.com, username: oauth2}
      """)
    let tokenRequest = request(image: "registry.example.com/team/app", extra: ",\"serviceAccountToken\":\"\(token)\",\"serviceAccountAnnotations\":{}")
    let failed = try Self.runWithoutLibcurl(["provide", "--config", "exchange.yaml"], stdin: tokenRequest, in: scratch.path)
    #expect(failed.status == 3)
    #expect(failed.stdout.isEmpty)
    #expect(failed.stderr.hasPrefix("pullwarden: token exchange failed: cannot load libcurl (libcurl.so.4): "), "\(failed.stderr)")
    #expect(failed.stderr.contains("install libcurl4 (Debian) to use HTTPS sources"))
    #expect(failed.stderr.hasSuffix("(POST https://127.0.0.1:9/token, source \"exchange\")\n"), "\(failed.stderr)")
    #expect(!failed.stderr.contains(token.split(separator: ".")[1]))

    // The file-only path never loads libcurl, so it works on the same node.
    try scratch.write("docker.json", #"{"auths": {"registry.example.com": {"auth": "dXNlcjpwYXNz"}}}"#)
    try scratch.write(
      "files.yaml", "recordsDir: records\nsources: [{name: node, type: dockerConfig, matchImages: ['registry.example.com'], path: docker.json}]\n")
    let served = try Self.runWithoutLibcurl(
      ["provide", "--config", "files.yaml"], stdin: request(image: "registry.example.com/team/app"), in: scratch.path)
    #expect(served.status == 0, "\(served.stderr)")
    #expect(try jsonObject(served.stdout)["auth"] as? [String: [String: String]] == ["registry.example.com": ["username": "user", "password": "pass"]])
  }
}
