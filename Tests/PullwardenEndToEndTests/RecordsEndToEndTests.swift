import Foundation
import Testing

private let image = "registry.example.com/team/app"

/// `provide` writing records, through the real binary: many processes at once, broken files, and
/// records that cannot be written.
@Suite struct ProvideRecordsEndToEndTests {
  let scratch: Scratch

  init() throws {
    scratch = try Scratch()
  }

  private func secretYAML(_ index: Int) -> String {
    let config = #"{"auths":{"registry.example.com":{"username":"user\#(index)","password":"pw-\#(index)"}}}"#
    return """
      apiVersion: v1
      kind: Secret
      type: kubernetes.io/dockerconfigjson
      metadata: {name: pull-\(index), namespace: team, uid: uid-\(index)}
      stringData:
        .dockerconfigjson: '\(config)'

      """
  }

  private var recordPath: String { scratch.path + "/records/pulled/sha256-" + sha256Hex(image) }
  private var expiryPath: String { scratch.path + "/records/pullwarden-expiry/sha256-" + sha256Hex(image) }

  /// Many providers for the same image at once: every one's Secret ends up in the record.
  @Test func concurrentProvidersLoseNoUpdate() throws {
    let count = 24
    var configs: [String] = []
    for index in 0..<count {
      try scratch.write("secrets-\(index)/pull.yaml", secretYAML(index))
      configs.append(
        try scratch.write(
          "config-\(index).yaml",
          "recordsDir: records\nsources: [{name: s, type: secretFiles, matchImages: [registry.example.com], directory: secrets-\(index)}]\n"))
    }
    let requestFile = try scratch.write("request.json", request(image: image))
    let results = try runConcurrently(configs.map { ["provide", "--config", $0] }, stdinFile: requestFile)
    for (index, result) in results.enumerated() {
      #expect(result.status == 0, "process \(index): \(result.stderr)")
      #expect(result.stderr.isEmpty, "process \(index): \(result.stderr)")
      #expect(result.stdout.contains("\"username\":\"user\(index)\""))
    }
    let record = try jsonObject(try String(contentsOfFile: recordPath, encoding: .utf8))
    let mapping = try #require(record["credentialMapping"] as? [String: [String: Any]])
    let secrets = try #require(mapping[image]?["kubernetesSecrets"] as? [[String: String]])
    #expect(Set(secrets.compactMap { $0["uid"] }) == Set((0..<count).map { "uid-\($0)" }))
    #expect(secrets.count == count)
    let expiry = try jsonObject(try String(contentsOfFile: expiryPath, encoding: .utf8))
    let expiryMapping = try #require(expiry["credentialMapping"] as? [String: [String: Any]])
    #expect((expiryMapping[image]?["kubernetesSecrets"] as? [Any])?.count == count)
    // No temporary files are left behind, and nothing holds a password.
    let files = try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/records/pulled")
    #expect(files == ["sha256-" + sha256Hex(image)])
    let everything = try String(contentsOfFile: recordPath, encoding: .utf8) + String(contentsOfFile: expiryPath, encoding: .utf8)
    #expect(!everything.contains("pw-"))
  }

  @Test func aBrokenRecordIsReplacedAndReported() throws {
    let config = try scratch.write(
      "config.yaml", "recordsDir: records\nsources: [{name: n, type: dockerConfig, matchImages: [registry.example.com], path: docker.json}]\n")
    try scratch.write("docker.json", #"{"auths":{"registry.example.com":{"username":"u","password":"p"}}}"#)
    try scratch.write("records/pulled/sha256-" + sha256Hex(image), #"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config"#)
    let result = try Pullwarden.run(["provide", "--config", config], stdin: request(image: image))
    #expect(result.status == 0)
    #expect(result.stderr.contains("pullwarden: warning: replacing unreadable pull record"))
    #expect(result.stdout.contains("\"username\":\"u\""))
    let record = try String(contentsOfFile: recordPath, encoding: .utf8)
    #expect(record.contains(#""nodePodsAccessible":true"#))
  }

  /// When not even the pull intent can be written, no credentials are handed out: stdout stays
  /// empty, stderr has one line, exit 4 (the kubelet fails a pull whose intent it cannot record).
  @Test func anUnwritableRecordsDirectoryFailsTheAnswer() throws {
    try scratch.write("records", "not a directory")
    let config = try scratch.write(
      "config.yaml", "recordsDir: records\nsources: [{name: n, type: dockerConfig, matchImages: [registry.example.com], path: docker.json}]\n")
    try scratch.write("docker.json", #"{"auths":{"registry.example.com":{"username":"u","password":"secret-pw"}}}"#)
    let result = try Pullwarden.run(["provide", "--config", config], stdin: request(image: image))
    #expect(result.status == 4)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.hasPrefix("pullwarden: no credentials handed out for \(image): cannot record the pull intent: "))
    #expect(result.stderr.split(separator: "\n").count == 1)
    #expect(!result.stderr.contains("secret-pw"))
  }
}

/// `verify` and `records` through the real binary.
@Suite struct VerifyEndToEndTests {
  let scratch: Scratch
  let kubeletDir: String

  static let prefix = #"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2024-10-21T12:26:40Z""#
  static let secretRecord = prefix
    + #","imageRef":"testimageref","credentialMapping":{"docker.io/testing/test":{"kubernetesSecrets":[{"uid":"testsecretuid","namespace":"default","name":"pull-secret","credentialHash":"testsecrethash"}]}}}"#
    + "\n"
  static let anonymousRecord = prefix + #","imageRef":"testimage-anonpull","credentialMapping":{"docker.io/testing/test":{"nodePodsAccessible":true}}}"# + "\n"

  init() throws {
    scratch = try Scratch()
    try scratch.write("image_manager/pulled/sha256-" + sha256Hex("testimageref"), Self.secretRecord)
    try scratch.write("image_manager/pulled/sha256-" + sha256Hex("testimage-anonpull"), Self.anonymousRecord)
    try FileManager.default.createDirectory(atPath: scratch.path + "/image_manager/pulling", withIntermediateDirectories: true)
    kubeletDir = scratch.path + "/image_manager"
  }

  private func verify(_ arguments: [String], _ stdin: String) throws -> Pullwarden.Result {
    try Pullwarden.run(["verify"] + arguments, stdin: stdin)
  }

  @Test func exitStatusFollowsTheDecision() throws {
    let allowed = try verify(
      ["--records-dir", kubeletDir],
      #"{"image":"docker.io/testing/test:latest","imageRef":"testimageref","podSecrets":[{"namespace":"default","name":"pull-secret","uid":"testsecretuid","credentialHash":"testsecrethash"}]}"#)
    #expect(allowed.status == 0)
    #expect(try jsonObject(allowed.stdout)["mustPull"] as? Bool == false)
    #expect(try jsonObject(allowed.stdout)["reason"] as? String == "secretHashMatched")
    #expect(allowed.stderr.isEmpty)

    let denied = try verify(["--records-dir", kubeletDir], #"{"image":"docker.io/testing/test:latest","imageRef":"testimageref"}"#)
    #expect(denied.status == 1)
    #expect(try jsonObject(denied.stdout)["mustPull"] as? Bool == true)
    #expect(denied.stderr.isEmpty)
  }

  /// Whatever goes wrong, stdout still says mustPull: true; the exit status says what went wrong
  /// (2 invalid request, 4 records, 64 usage; README, Exit status).
  @Test(arguments: [
    (["--records-dir", "IMAGE_MANAGER"], "{not json", "invalid JSON", Int32(2)),
    (["--records-dir", "IMAGE_MANAGER", "--policy", "Sometimes"], "{}", "unknown image pull credential verification policy", 64),
    (["--records-dir", "IMAGE_MANAGER", "--policy", "NeverVerifyAllowlistedImages", "--allowlist", "*"], "{}", "only patterns ending with '/*' are allowed", 64),
    (["--records-dir", "IMAGE_MANAGER", "--format", "yaml"], "{}", "unknown format", 64),
    (["--records-dir", "IMAGE_MANAGER", "-o", "yaml"], "{}", "expected json, text", 64),
    (["--records-dir", "/nonexistent/records"], "{}", "records directory does not exist", 4),
    (["--records-dir"], "{}", "--records-dir", 64),
    ([], "{}", "--records-dir", 64),
    (["--records-dir", "IMAGE_MANAGER", "--config", "/nonexistent.yaml"], "{}", "not both", 64),
    (["--config", "/nonexistent/config.yaml"], "{}", "/nonexistent/config.yaml", 2),
    (["--records-dir", "IMAGE_MANAGER", "--bogus"], "{}", "--bogus", 64),
  ])
  func errorsStillAnswerMustPull(arguments: [String], stdin: String, fragment: String, status: Int32) throws {
    let result = try verify(arguments.map { $0 == "IMAGE_MANAGER" ? kubeletDir : $0 }, stdin)
    #expect(result.status == status, "\(arguments): \(result.stderr)")
    let answer = try jsonObject(result.stdout)
    #expect(answer["mustPull"] as? Bool == true)
    #expect(answer["reason"] as? String == "error")
    #expect(result.stderr.hasPrefix("pullwarden: "))
    #expect(result.stderr.contains(fragment), "\(result.stderr)")
  }

  /// A caller writes its request and then reads the answer: even when the options are wrong, verify
  /// reads the whole request first, so the caller never meets a closed pipe.
  @Test func theRequestIsReadEvenWhenOptionsAreWrong() throws {
    signal(SIGPIPE, SIG_IGN)
    let process = Process()
    process.executableURL = Pullwarden.binary
    process.arguments = ["verify", "--policy", "Sometimes", "--records-dir", kubeletDir]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    // Far more than a pipe holds: if verify exited without reading, this write would fail.
    let request = #"{"image":"docker.io/testing/test:latest","imageRef":"testimageref","podSecrets":["# + String(repeating: " ", count: 512 * 1024) + "]}"
    try input.fileHandleForWriting.write(contentsOf: Data(request.utf8))
    try input.fileHandleForWriting.close()
    let answer = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    expectNoSignal(process)
    #expect(process.terminationStatus == 64)
    #expect(try jsonObject(String(decoding: answer, as: UTF8.self))["mustPull"] as? Bool == true)
  }

  /// The direct option reader accepts what ArgumentParser accepts: `--name=value`, repeated
  /// options, flags in any order.
  @Test func optionFormsAgree() throws {
    let request = #"{"image":"test.io/team/app:1","imageRef":"testimageref"}"#
    let spaced = try verify(
      ["--policy", "NeverVerifyAllowlistedImages", "--allowlist", "a.io/*", "--allowlist", "test.io/*", "--format", "text", "--records-dir", kubeletDir], request)
    let joined = try verify(
      ["--format=text", "--records-dir=" + kubeletDir, "--allowlist=a.io/*", "--policy=NeverVerifyAllowlistedImages", "--allowlist=test.io/*"], request)
    #expect(spaced.status == 0)
    #expect(spaced.stdout == "may use (allowlisted): test.io/team/app:1 is in the allowlist of policy NeverVerifyAllowlistedImages\n")
    #expect(joined.stdout == spaced.stdout)
    let flag = try verify(["--batch=yes", "--records-dir", kubeletDir], request)
    #expect(flag.status == 64)
    #expect(try jsonObject(flag.stdout)["mustPull"] as? Bool == true)
  }

  @Test func textFormatAndHelp() throws {
    let text = try verify(["--records-dir", kubeletDir, "--format", "text"], #"{"image":"docker.io/testing/test:1","imageRef":"testimage-anonpull"}"#)
    #expect(text.status == 0)
    #expect(text.stdout.hasPrefix("may use (nodePodsAccessible): "))
    let bad = try verify(["--format", "text"], "{}")
    #expect(bad.status == 64)
    #expect(bad.stdout.hasPrefix("must pull (error): "))
    let badOutput = try verify(["-o", "text", "--bogus"], "{}")
    #expect(badOutput.status == 64)
    #expect(badOutput.stdout.hasPrefix("must pull (error): "))
    let output = try verify(["--records-dir", kubeletDir, "-o", "text"], #"{"image":"docker.io/testing/test:1","imageRef":"testimage-anonpull"}"#)
    #expect(output.stdout == text.stdout)
    let help = try verify(["--help"], "")
    #expect(help.status == 0)
    #expect(help.stdout.contains("USAGE: pullwarden verify [--records-dir <dir>] [--config <file>]"))
    let version = try verify(["--version"], "")
    #expect(version.status == 0)
    #expect(version.stdout.hasPrefix("pullwarden "))
  }

  /// The kubelet's directory is read-only unless --update-records is given.
  @Test func theKubeletDirectoryIsOnlyWrittenWhenAsked() throws {
    let rotated = #"{"image":"docker.io/testing/test:latest","imageRef":"testimageref","podSecrets":[{"namespace":"default","name":"pull-secret","uid":"testsecretuid","credentialHash":"newhash"}]}"#
    let before = try snapshot(kubeletDir)
    let readOnly = try verify(["--records-dir", kubeletDir], rotated)
    #expect(readOnly.status == 0)
    #expect(try snapshot(kubeletDir) == before)

    let updating = try verify(["--records-dir", kubeletDir, "--update-records"], rotated)
    #expect(updating.status == 0)
    let written = try jsonObject(updating.stdout)["recordUpdated"] as? [String: Any]
    #expect(written?["imageRef"] as? String == "testimageref")
    #expect((written?["secret"] as? [String: Any])?["credentialHash"] as? String == "newhash")
    // Once written, the same request changes nothing and says nothing.
    let again = try verify(["--records-dir", kubeletDir, "--update-records", "-o", "text"], rotated)
    #expect(again.status == 0 && again.stderr.isEmpty, "\(again.stderr)")
    let record = try String(contentsOfFile: kubeletDir + "/pulled/sha256-" + sha256Hex("testimageref"), encoding: .utf8)
    #expect(record.contains(#""credentialHash":"newhash""#))
    #expect(!record.contains("testsecrethash"))
    #expect(!FileManager.default.fileExists(atPath: kubeletDir + "/pullwarden-expiry"))
  }

  @Test func batchAnswersEveryLineInOrder() throws {
    let lines = [
      #"{"image":"docker.io/testing/test:latest","imageRef":"testimage-anonpull"}"#,
      "",
      #"{"image":"docker.io/testing/test:latest","imageRef":"testimageref"}"#,
      "{broken",
      #"{"image":"docker.io/testing/test:latest","imageRef":"testimageref","podSecrets":[{"namespace":"default","name":"pull-secret","uid":"testsecretuid","credentialHash":"testsecrethash"}]}"#,
    ]
    let result = try verify(["--records-dir", kubeletDir, "--batch"], lines.joined(separator: "\n"))
    #expect(result.status == 2)
    let answers = result.stdout.split(separator: "\n").map(String.init)
    #expect(answers.count == 4)
    #expect(try answers.map { try jsonObject($0)["reason"] as? String } == ["nodePodsAccessible", "noMatchingCredentials", "error", "secretHashMatched"])
    #expect(result.stderr.contains("stdin line 4"))
  }

  /// Each answer is written as soon as its line is read, so a caller can converse line by line.
  @Test func batchAnswersBeforeTheEndOfInput() throws {
    let process = Process()
    process.executableURL = Pullwarden.binary
    process.arguments = ["verify", "--records-dir", kubeletDir, "--batch"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    // A guard against a verifier that waits for end of input: it would never answer.
    let watchdog = DispatchWorkItem { process.terminate() }
    DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: watchdog)
    defer { watchdog.cancel() }
    var answers: [String] = []
    for imageRef in ["testimage-anonpull", "testimageref"] {
      try input.fileHandleForWriting.write(contentsOf: Data((#"{"image":"docker.io/testing/test:1","imageRef":"\#(imageRef)"}"# + "\n").utf8))
      var line = Data()
      while !line.contains(UInt8(ascii: "\n")) {
        let chunk = output.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        line.append(chunk)
      }
      answers.append(String(decoding: line, as: UTF8.self))
    }
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    expectNoSignal(process)
    #expect(answers.count == 2)
    #expect(answers[0].contains("nodePodsAccessible"))
    #expect(answers[1].contains("noMatchingCredentials"))
    #expect(process.terminationStatus == 0)
  }

  /// The provider's records answer the verifier: the whole loop through both commands.
  @Test func provideThenVerify() throws {
    try scratch.write("secrets/pull.yaml", """
      apiVersion: v1
      kind: Secret
      type: kubernetes.io/dockerconfigjson
      metadata: {name: pull, namespace: team, uid: uid-1}
      stringData:
        .dockerconfigjson: '{"auths":{"registry.example.com":{"username":"team","password":"team-pw"}}}'
      """)
    let config = try scratch.write(
      "config.yaml", "recordsDir: records\nsources: [{name: s, type: secretFiles, matchImages: [registry.example.com], directory: secrets}]\n")
    #expect(try Pullwarden.run(["provide", "--config", config], stdin: request(image: image)).status == 0)
    let records = scratch.path + "/records"
    let withSecret = #"{"image":"registry.example.com/team/app:v2","podSecrets":[{"namespace":"team","name":"pull","uid":"uid-1","dockerConfigJSON":{"auths":{"registry.example.com":{"username":"team","password":"team-pw"}}}}]}"#
    #expect(try verify(["--records-dir", records], withSecret).status == 0)
    #expect(try verify(["--records-dir", records], #"{"image":"registry.example.com/team/app:v2"}"#).status == 1)
    #expect(try verify(["--records-dir", records], #"{"image":"registry.example.com/other/app"}"#).status == 0)

    let list = try Pullwarden.run(["records", "list", "--config", config])
    #expect(list.status == 0)
    #expect(list.stdout.hasPrefix("IMAGE REF "))
    #expect(list.stdout.contains("\(image)  "))
    #expect(list.stdout.contains("1 Secret"))
    let inspect = try Pullwarden.run(["records", "inspect", "registry.example.com/team/app:v9", "--records-dir", records])
    #expect(inspect.status == 0)
    #expect(inspect.stdout.contains("Secret team/pull  uid uid-1  hash "))
    #expect(!inspect.stdout.contains("team-pw"))
    let missing = try Pullwarden.run(["records", "inspect", "registry.example.com/nothing", "--records-dir", records])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("no pull record for registry.example.com/nothing"))
  }

  @Test func listAndGarbageCollectTheKubeletTestdata() throws {
    let json = try Pullwarden.run(["records", "list", "--records-dir", kubeletDir, "--format", "json"])
    #expect(json.status == 0)
    let items = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
    #expect(items.count == 2)
    #expect(items.allSatisfy { $0["status"] as? String == "ok" })

    let before = try snapshot(kubeletDir)
    let dryRun = try Pullwarden.run(["records", "gc", "--records-dir", kubeletDir, "--older-than", "720h", "--dry-run"])
    #expect(dryRun.status == 0)
    #expect(dryRun.stdout.contains("would retire 2 records"))
    #expect(try snapshot(kubeletDir) == before)

    // Nothing in these records expires (the kubelet's have no expiry files).
    let expired = try Pullwarden.run(["records", "gc", "--records-dir", kubeletDir, "--expired"])
    #expect(expired.stdout.contains("retired 0 records"))

    // Retired, not deleted: the records stay with no credentials, so every pod must re-verify.
    let collected = try Pullwarden.run(["records", "gc", "--records-dir", kubeletDir, "--older-than", "720h"])
    #expect(collected.status == 0)
    #expect(collected.stdout.contains("retired testimageref: not updated or handed out for more than 720h0m0s"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: kubeletDir + "/pulled").count == 2)
    let record = try jsonObject(try String(contentsOfFile: kubeletDir + "/pulled/sha256-" + sha256Hex("testimageref"), encoding: .utf8))
    #expect(record["credentialMapping"] == nil)
    #expect(record["imageRef"] as? String == "testimageref")
    let anonymous = try verify(["--records-dir", kubeletDir], #"{"image":"docker.io/testing/test:latest","imageRef":"testimage-anonpull"}"#)
    #expect(anonymous.status == 1)
    #expect(try jsonObject(anonymous.stdout)["reason"] as? String == "noCredentialsForImage")
    let again = try Pullwarden.run(["records", "gc", "--records-dir", kubeletDir, "--older-than", "720h"])
    #expect(again.stdout.contains("retired 0 records"))

    let nothing = try Pullwarden.run(["records", "gc", "--records-dir", kubeletDir])
    #expect(nothing.status == 64)
    #expect(nothing.stderr.contains("nothing to collect"))
  }

  private func snapshot(_ directory: String) throws -> [String: String] {
    var files: [String: String] = [:]
    let enumerator = FileManager.default.enumerator(atPath: directory)
    while let path = enumerator?.nextObject() as? String {
      files[path] = (try? String(contentsOfFile: directory + "/" + path, encoding: .utf8)) ?? "<dir>"
    }
    return files
  }
}

/// Hex SHA-256 of a record key, computed independently of Pullwarden (by the system's sha256sum).
func sha256Hex(_ text: String) -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
  let input = Pipe(), output = Pipe()
  process.standardInput = input
  process.standardOutput = output
  try! process.run()
  try! input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
  try! input.fileHandleForWriting.close()
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return String(String(decoding: data, as: UTF8.self).prefix(64))
}

/// Starts every command at once (stdin from a file, output to files, so no pipe can block) and
/// waits for all of them.
func runConcurrently(_ commands: [[String]], stdinFile: String) throws -> [Pullwarden.Result] {
  let scratch = try Scratch()
  var processes: [(Process, String, String)] = []
  for (index, arguments) in commands.enumerated() {
    let process = Process()
    process.executableURL = Pullwarden.binary
    process.arguments = arguments
    process.environment = ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"]
    let out = try scratch.write("out-\(index)", ""), err = try scratch.write("err-\(index)", "")
    process.standardInput = FileHandle(forReadingAtPath: stdinFile)
    process.standardOutput = FileHandle(forWritingAtPath: out)
    process.standardError = FileHandle(forWritingAtPath: err)
    processes.append((process, out, err))
  }
  for (process, _, _) in processes { try process.run() }
  return try processes.map { process, out, err in
    process.waitUntilExit()
    expectNoSignal(process)
    return Pullwarden.Result(
      status: process.terminationStatus, stdout: try String(contentsOfFile: out, encoding: .utf8),
      stderr: try String(contentsOfFile: err, encoding: .utf8), timedOut: false)
  }
}
