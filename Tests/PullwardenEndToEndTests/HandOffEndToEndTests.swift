import FixtureKit
import Foundation
import Testing

/// The dynamically linked sibling of the binary under test, when it has one (the release).
enum TwoFileRelease {
  static let sibling = Pullwarden.binary.deletingLastPathComponent().appendingPathComponent("pullwarden-dynamic")
  static let isTested = FileManager.default.isExecutableFile(atPath: sibling.path)
}

/// The release is two files (scripts/build-release): a static `pullwarden`, which cannot load libcurl,
/// and `pullwarden-dynamic` beside it, which can. A call whose sources make HTTPS requests must
/// continue in the sibling whole (arguments, environment, the request already read from stdin)
/// before anything is written; a missing, untrusted or wrong sibling must be one clear line with
/// nothing written; calls that read files must not need the sibling at all.
@Suite(.enabled(if: TwoFileRelease.isTested, "needs the release's two files (scripts/build-release)"))
struct HandOffEndToEndTests {
  static let sibling = TwoFileRelease.sibling

  let scratch: Scratch
  let token = makeJWT(expiresIn: 3600)

  init() throws {
    scratch = try Scratch()
    try scratch.write("docker.json", #"{"auths": {"files.example.com": {"auth": "dXNlcjpwYXNz"}}}"#)
    // Nothing listens on port 9: a sibling that runs fails to connect, which tells it ran.
    try scratch.write(
      "config.yaml",
      """
      recordsDir: records
      sources:
        - {name: files, type: dockerConfig, matchImages: ["files.example.com"], path: docker.json}
        - {name: exchange, type: tokenExchange, matchImages: ["registry.example.com"],
           endpoint: "https://127.0.0.1:9/token", audience: registry.example.com, username: oauth2}
      """)
  }

  /// Copies the front end into `folder` of the scratch directory, with `sibling` (a file to copy) as
  /// its pullwarden-dynamic, or none; returns the front end's copy.
  private func install(in folder: String, sibling: URL?, siblingMode: Int = 0o755) throws -> URL {
    let directory = URL(fileURLWithPath: scratch.path).appendingPathComponent(folder)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let frontEnd = directory.appendingPathComponent("pullwarden")
    try FileManager.default.copyItem(at: Pullwarden.binary, to: frontEnd)
    if let sibling {
      let copy = directory.appendingPathComponent("pullwarden-dynamic")
      try FileManager.default.copyItem(at: sibling, to: copy)
      try FileManager.default.setAttributes([.posixPermissions: siblingMode], ofItemAtPath: copy.path)
    }
    return frontEnd
  }

  private func tokenRequest(padding: Int = 0) -> String {
    request(
      image: "registry.example.com/team/app",
      extra: ",\"serviceAccountToken\":\"\(token)\",\"serviceAccountAnnotations\":{}" + String(repeating: " ", count: padding))
  }

  private func provide(_ binary: URL, stdin: String) throws -> Pullwarden.Result {
    try Pullwarden.run(["provide", "--config", "config.yaml"], stdin: stdin, in: scratch.path, binary: binary)
  }

  private var recordsWritten: Bool { FileManager.default.fileExists(atPath: scratch.path + "/records") }

  @Test func theFrontEndIsStaticAndTheSiblingDynamic() throws {
    func interpreter(_ file: URL) throws -> Bool {
      let outcome = try ProcessRunner.run(
        URL(fileURLWithPath: "/usr/bin/readelf"), arguments: ["--program-headers", file.path], stdin: Data(),
        environment: ["LANG": "C"], timeout: 60)
      return String(decoding: outcome.stdout, as: UTF8.self).contains("INTERP")
    }
    #expect(try !interpreter(Pullwarden.binary))
    #expect(try interpreter(Self.sibling))
  }

  @Test func fileSourcesNeedNoSibling() throws {
    let alone = try install(in: "alone", sibling: nil)
    let result = try provide(alone, stdin: request(image: "files.example.com/team/app"))
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try jsonObject(result.stdout)["auth"] as? [String: [String: String]] == ["files.example.com": ["username": "user", "password": "pass"]])
  }

  @Test func anHTTPSSourceWithoutTheSiblingIsOneLineAndWritesNothing() throws {
    let alone = try install(in: "alone", sibling: nil)
    let result = try provide(alone, stdin: tokenRequest())
    let expected = "it is missing (the Debian package and scripts/install-node install both)"
    #expect(result.status == 3)
    #expect(result.stdout.isEmpty)
    #expect(
      result.stderr == "pullwarden: HTTPS sources need pullwarden-dynamic beside this binary: \(expected) (\(scratch.path)/alone/pullwarden-dynamic)\n",
      "\(result.stderr)")
    #expect(!recordsWritten)
  }

  @Test func anUntrustedSiblingIsNotRun() throws {
    let writable = try install(in: "writable", sibling: Self.sibling, siblingMode: 0o775)
    let result = try provide(writable, stdin: tokenRequest())
    #expect(result.status == 3)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("writable by group or others (mode 0775"), "\(result.stderr)")
    #expect(!recordsWritten)

    let open = try install(in: "open", sibling: Self.sibling)
    try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: open.deletingLastPathComponent().path)
    let inOpenFolder = try provide(open, stdin: tokenRequest())
    #expect(inOpenFolder.status == 3)
    #expect(inOpenFolder.stderr.contains("refusing \(scratch.path)/open: writable by group or others (mode 0777"), "\(inOpenFolder.stderr)")
    #expect(!recordsWritten)
  }

  /// The sibling is the file itself, never a symbolic link to one.
  @Test func aSymbolicLinkInTheSiblingsPlaceIsNotFollowed() throws {
    let linked = try install(in: "linked", sibling: nil)
    try FileManager.default.createSymbolicLink(
      atPath: linked.deletingLastPathComponent().appendingPathComponent("pullwarden-dynamic").path,
      withDestinationPath: Self.sibling.path)
    let result = try provide(linked, stdin: tokenRequest())
    #expect(result.status == 3)
    #expect(result.stderr.contains("HTTPS sources need pullwarden-dynamic beside this binary: Too many levels of symbolic links"), "\(result.stderr)")
    #expect(!recordsWritten)
  }

  /// A static build installed as the sibling would hand the call on to itself forever.
  @Test func aStaticSiblingIsNotRunInALoop() throws {
    let wrong = try install(in: "wrong", sibling: Pullwarden.binary)
    let result = try provide(wrong, stdin: tokenRequest())
    #expect(result.status == 3)
    #expect(
      result.stderr.contains("pullwarden-dynamic beside this binary: it is not a dynamically linked executable; install both files from one release"),
      "\(result.stderr)")
    #expect(!recordsWritten)
  }

  /// Through a symbolic link (as /usr/bin/pullwarden), with a request larger than a pipe's buffer:
  /// the sibling beside the real file runs with the whole request and fails to connect, as the
  /// dynamic build itself does.
  @Test func theSiblingGetsTheWholeRequestThroughASymbolicLink() throws {
    let link = scratch.path + "/pullwarden-link"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Pullwarden.binary.path)
    let stdin = tokenRequest(padding: 300_000)
    let handedOff = try provide(URL(fileURLWithPath: link), stdin: stdin)
    let direct = try provide(Self.sibling, stdin: stdin)
    #expect(handedOff.status == 3)
    #expect(handedOff.stderr.hasPrefix("pullwarden: token exchange failed: cannot connect"), "\(handedOff.stderr)")
    #expect(handedOff.stderr == direct.stderr)
    #expect(handedOff.stdout.isEmpty)
  }

  /// With the decision log and metrics on, a handed-off call is logged and counted once, by the
  /// sibling: the static binary writes nothing before it hands off.
  @Test func aHandedOffCallIsLoggedAndCountedOnce() throws {
    try scratch.write(
      "observed.yaml",
      """
      recordsDir: records
      log: {file: {path: log/decisions.jsonl}}
      metrics: {textfile: metrics/pullwarden.prom}
      sources:
        - {name: exchange, type: tokenExchange, matchImages: ["registry.example.com"],
           endpoint: "https://127.0.0.1:9/token", audience: registry.example.com, username: oauth2}
      """)
    let result = try Pullwarden.run(["provide", "--config", "observed.yaml"], stdin: tokenRequest(), in: scratch.path)
    #expect(result.status == 3)
    #expect(result.stderr.hasPrefix("pullwarden: token exchange failed: cannot connect"), "\(result.stderr)")
    let log = try String(contentsOfFile: scratch.path + "/log/decisions.jsonl", encoding: .utf8)
    #expect(log.split(separator: "\n").count == 1, "\(log)")
    let metrics = try String(contentsOfFile: scratch.path + "/metrics/pullwarden.prom", encoding: .utf8)
    let calls = metrics.split(separator: "\n").filter { $0.hasPrefix("pullwarden_provide_calls_total{") }
    #expect(calls.count == 1 && calls[0].hasSuffix(" 1"), "\(metrics)")
  }

  /// config check says, before any pull, that HTTPS sources would fail without the sibling.
  @Test func configCheckSaysWhenTheSiblingIsMissing() throws {
    let alone = try install(in: "alone", sibling: nil)
    let missing = try Pullwarden.run(["config", "check", "--config", "config.yaml"], in: scratch.path, binary: alone)
    #expect(missing.status == 2, "\(missing.stdout)")
    #expect(
      missing.stdout.contains(
        "source \"exchange\" makes HTTPS requests, but HTTPS sources need pullwarden-dynamic beside this binary: it is missing"),
      "\(missing.stdout)")
    #expect(missing.stdout.contains("[missing-dynamic-sibling]"), "\(missing.stdout)")
    let installed = try install(in: "both", sibling: Self.sibling)
    let clean = try Pullwarden.run(["config", "check", "--config", "config.yaml"], in: scratch.path, binary: installed)
    #expect(!clean.stdout.contains("missing-dynamic-sibling"), "\(clean.stdout)")
  }

  /// What the static build answers by itself, without the sibling: everything but HTTPS.
  @Test func verifyAndExplainWithoutLiveNeedNoSibling() throws {
    let alone = try install(in: "alone", sibling: nil)
    let served = try provide(alone, stdin: request(image: "files.example.com/team/app"))
    #expect(served.status == 0, "\(served.stderr)")
    let verified = try Pullwarden.run(
      ["verify", "--records-dir", "records"], stdin: #"{"image":"files.example.com/team/app"}"#, in: scratch.path, binary: alone)
    #expect(verified.status == 0 || verified.status == 1, "\(verified.stderr)")
    #expect(verified.stdout.contains("\"mustPull\""), "\(verified.stdout)")
    #expect(!verified.stderr.contains("pullwarden-dynamic"), "\(verified.stderr)")
    let explained = try Pullwarden.run(
      ["explain", "registry.example.com/team/app", "--config", "config.yaml", "--service-account", "team-a/builder"],
      in: scratch.path, binary: alone)
    #expect(explained.status == 0, "\(explained.stderr)")
    #expect(!explained.stderr.contains("pullwarden-dynamic"), "\(explained.stderr)")
    let live = try Pullwarden.run(
      ["explain", "--request", "-", "--config", "config.yaml", "--live"], stdin: tokenRequest(), in: scratch.path, binary: alone)
    #expect(live.status == 1)
    #expect(
      live.stderr.hasPrefix("pullwarden: warning: HTTPS sources need pullwarden-dynamic beside this binary: it is missing"),
      "\(live.stderr)")
    #expect(live.stdout.contains("this pullwarden is statically linked and cannot load libcurl"), "\(live.stdout)")
  }
}
