import Foundation
import Testing

private let image = "registry.example.com/team/app"

/// A secretFiles Secret for `registry.example.com`.
private func secretYAML(namespace: String, name: String, uid: String, user: String) -> String {
  """
  apiVersion: v1
  kind: Secret
  type: kubernetes.io/dockerconfigjson
  metadata: {name: \(name), namespace: \(namespace), uid: \(uid)}
  stringData:
    .dockerconfigjson: '{"auths":{"registry.example.com":{"username":"\(user)","password":"\(user)-pw"}}}'

  """
}

/// A verify request for `image` from a pod holding `user`'s Secret (or nothing).
private func podRequest(_ image: String, user: String? = nil, namespace: String = "team", name: String = "pull", uid: String = "uid-1") -> String {
  guard let user else { return #"{"image":"\#(image)"}"# }
  return #"{"image":"\#(image)","podSecrets":[{"namespace":"\#(namespace)","name":"\#(name)","uid":"\#(uid)","dockerConfigJSON":{"auths":{"registry.example.com":{"username":"\#(user)","password":"\#(user)-pw"}}}}]}"#
}


/// Step 7 §1 through the real binary: a provide killed or failing at any step of the record store,
/// with or without a simulated power cut, never leaves an image that a pod without credentials (or
/// with an expired one) may use.
@Suite(.serialized) struct CrashSafetyEndToEndTests {
  let scratch: Scratch
  var records: String { scratch.path + "/records" }

  init() throws {
    scratch = try Scratch()
    // Secret "a" is handed out with cacheDuration 0s: recorded, but expired at once. A record that
    // lost its expiry would let its holder reuse the image: the check below catches that.
    try scratch.write("short/pull.yaml", secretYAML(namespace: "team", name: "pull", uid: "uid-1", user: "a"))
    try scratch.write(
      "short.yaml", "recordsDir: records\nsources: [{name: s, type: secretFiles, matchImages: [registry.example.com], directory: short, cacheDuration: 0s}]\n")
    try scratch.write("long/pull.yaml", secretYAML(namespace: "team", name: "old", uid: "uid-0", user: "z"))
    try scratch.write(
      "long.yaml", "recordsDir: records\nsources: [{name: l, type: secretFiles, matchImages: [registry.example.com], directory: long, cacheDuration: 1000h}]\n")
  }

  /// Runs the debug build (crash points are compiled into debug builds only), whose deliberate
  /// SIGKILL at a crash point is no failure.
  private func provide(_ config: String, environment: [String: String] = [:]) throws -> Pullwarden.Result {
    try Pullwarden.run(
      ["provide", "--config", scratch.path + "/" + config], stdin: request(image: image), environment: environment,
      binary: Pullwarden.debugBinary, expectedSignal: SIGKILL)
  }

  private func verify(_ request: String) throws -> Pullwarden.Result {
    try Pullwarden.run(["verify", "--records-dir", records], stdin: request)
  }

  /// What must hold whatever step failed: every record file still decodes, and pods without a live
  /// recorded credential must pull. The one exception is a run stopped before anything about the image
  /// reached the disk (no intent, no record) and before it answered: the image then looks exactly as if
  /// provide had never run, and no credential was handed out.
  private func checkNoUnverifiedReuse(_ context: String, answered: Bool) throws {
    guard FileManager.default.fileExists(atPath: records + "/pulled") || FileManager.default.fileExists(atPath: records + "/pulling") else {
      #expect(!answered, "\(context): answered without a record or intent")
      return  // nothing durable yet: verify refuses the directory (exit 4, must pull)
    }
    let name = "sha256-" + sha256Hex(image)
    let untouched = !FileManager.default.fileExists(atPath: records + "/pulling/" + name)
      && !FileManager.default.fileExists(atPath: records + "/pulled/" + name)
    for (label, pod) in [("no credentials", podRequest(image)), ("the 0s Secret", podRequest(image, user: "a"))] {
      let answer = try verify(pod)
      let decision = try jsonObject(answer.stdout)
      if decision["mustPull"] as? Bool == false {
        #expect(!answered && untouched && decision["reason"] as? String == "preloadedImage", "\(context): a pod with \(label) may use the image: \(answer.stdout)")
      } else {
        #expect(answer.status != 0, "\(context)")
      }
    }
    let list = try Pullwarden.run(["records", "list", "--records-dir", records, "--format", "json"])
    #expect(list.status == 0, "\(context): \(list.stderr)")
    let items = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
    #expect(items.allSatisfy { $0["status"] as? String == "ok" }, "\(context): \(list.stdout)")
  }

  private func reset(withExistingRecord: Bool) throws {
    try? FileManager.default.removeItem(atPath: records)
    if withExistingRecord {
      let seeded = try provide("long.yaml")
      #expect(seeded.status == 0, "\(seeded.stderr)")
    }
  }

  @Test(arguments: ["kill", "power-loss"], [false, true])
  func aProvideKilledAtAnyStepLeavesNothingReusable(mode: String, withExistingRecord: Bool) throws {
    var step = 1
    while true {
      try reset(withExistingRecord: withExistingRecord)
      let context = "\(mode) before step \(step)\(withExistingRecord ? ", existing record" : "")"
      let result = try provide("short.yaml", environment: ["PULLWARDEN_TEST_CRASH_AT": "\(step):\(mode)"])
      if result.status == 0 {
        #expect(step > 1, "crash points are not honoured: is this a debug build?")
        try checkNoUnverifiedReuse("completed run", answered: true)
        break
      }
      #expect(result.status == SIGKILL, "\(context): \(result.stderr)")
      // Steps after the answer (the record's) may be killed with the answer already out.
      try checkNoUnverifiedReuse(context, answered: !result.stdout.isEmpty)
      // The next provide repairs whatever the crash left, and still records nothing reusable.
      let next = try provide("short.yaml")
      #expect(next.status == 0, "\(context): \(next.stderr)")
      try checkNoUnverifiedReuse(context + ", then a full run", answered: true)
      step += 1
      if step > 40 {
        Issue.record("more than 40 steps: the loop does not end")
        break
      }
    }
  }

  /// The record follows the answer, as the kubelet's record follows its pull: a run killed at any
  /// step before its answer was out leaves no record of its credential, even a long-lived one, so a
  /// pod holding that same Secret must still pull under AlwaysVerify.
  @Test func aProvideKilledBeforeItAnswersLeavesNoRecordOfItsCredential() throws {
    try scratch.write(
      "lasting.yaml", "recordsDir: records\nsources: [{name: s, type: secretFiles, matchImages: [registry.example.com], directory: short, cacheDuration: 1000h}]\n")
    var killedBeforeAnswer = 0
    for step in 1...40 {
      try reset(withExistingRecord: false)
      let result = try provide("lasting.yaml", environment: ["PULLWARDEN_TEST_CRASH_AT": "\(step):kill"])
      if result.status == 0 { break }
      #expect(result.status == SIGKILL, "step \(step): \(result.stderr)")
      guard result.stdout.isEmpty else { continue }
      killedBeforeAnswer += 1
      let answer = try Pullwarden.run(
        ["verify", "--records-dir", records, "--policy", "AlwaysVerify"], stdin: podRequest(image + ":v1", user: "a"))
      #expect(try jsonObject(answer.stdout)["mustPull"] as? Bool == true, "killed before answering at step \(step): \(answer.stdout)")
    }
    #expect(killedBeforeAnswer > 0, "no crash point before the answer: is this a debug build?")
  }

  /// A full disk or a read-only file system at any step: provide either refuses (no intent, exit 4,
  /// nothing on stdout) or answers with a warning, and nothing becomes reusable.
  @Test(arguments: ["enospc", "erofs"])
  func aWriteFailingAtAnyStepLeavesNothingReusable(mode: String) throws {
    var outcomes: Set<Int32> = []
    for step in 1...40 {
      try reset(withExistingRecord: false)
      let result = try provide("short.yaml", environment: ["PULLWARDEN_TEST_CRASH_AT": "\(step):\(mode)"])
      let context = "\(mode) at step \(step)"
      outcomes.insert(result.status)
      switch result.status {
      case 4:
        #expect(result.stdout.isEmpty, "\(context)")
        #expect(result.stderr.hasPrefix("pullwarden: no credentials handed out for \(image): cannot record the pull intent"), "\(context): \(result.stderr)")
      case 0:
        #expect(result.stdout.contains("\"username\":\"a\""), "\(context)")
      default:
        Issue.record("\(context): exit \(result.status): \(result.stderr)")
      }
      #expect(!result.stderr.contains("a-pw"))
      try checkNoUnverifiedReuse(context, answered: result.status == 0)
      if result.status == 0 && result.stderr.isEmpty { break }  // past the last step
    }
    #expect(outcomes.contains(4), "no step refused: crash points are not honoured")
  }
}

/// Records that cannot be written, the kubelet's directory without imageRef, forged text lines, and
/// a walk through every documented records and verify command.
@Suite struct FailSafeEndToEndTests {
  let scratch: Scratch
  var records: String { scratch.path + "/records" }
  var name: String { "sha256-" + sha256Hex(image) }

  init() throws {
    scratch = try Scratch()
    try scratch.write("secrets/pull.yaml", secretYAML(namespace: "team", name: "pull", uid: "uid-1", user: "a"))
    try scratch.write(
      "config.yaml", "recordsDir: records\nsources: [{name: s, type: secretFiles, matchImages: [registry.example.com], directory: secrets, cacheDuration: 10m}]\n")
    try scratch.write("expired/pull.yaml", secretYAML(namespace: "team", name: "pull", uid: "uid-1", user: "a"))
    try scratch.write(
      "expired.yaml", "recordsDir: records\nsources: [{name: s, type: secretFiles, matchImages: [registry.example.com], directory: expired, cacheDuration: 0s}]\n")
  }

  private func provide(_ image: String, config: String = "config.yaml") throws -> Pullwarden.Result {
    try Pullwarden.run(["provide", "--config", scratch.path + "/" + config], stdin: request(image: image))
  }

  /// A directory planted where the record or its lock belongs: the answer is given, the intent stays,
  /// and the image does not look preloaded.
  @Test(arguments: ["pulled", "pullwarden-locks"])
  func anUnwritableRecordLeavesAnIntent(planted under: String) throws {
    try FileManager.default.createDirectory(atPath: records + "/\(under)/\(name)/planted", withIntermediateDirectories: true)
    let result = try provide(image)
    #expect(result.status == 0)
    #expect(result.stdout.contains("\"username\":\"a\""))
    #expect(result.stderr.contains("pullwarden: warning: credentials for \(image) were not recorded"))
    #expect(!result.stderr.contains("a-pw"))
    #expect(FileManager.default.fileExists(atPath: records + "/pulling/" + name))
    let stranger = try Pullwarden.run(["verify", "--records-dir", records], stdin: podRequest(image + ":v1"))
    #expect(stranger.status == 1, "\(stranger.stdout)")
    #expect(try jsonObject(stranger.stdout)["mustPull"] as? Bool == true)
  }

  @Test func theKubeletsDirectoryWithoutImageRefIsRefused() throws {
    try scratch.write("image_manager/pulled/sha256-" + sha256Hex("testimageref"), VerifyEndToEndTests.secretRecord)
    try FileManager.default.createDirectory(atPath: scratch.path + "/image_manager/pulling", withIntermediateDirectories: true)
    let result = try Pullwarden.run(["verify", "--records-dir", scratch.path + "/image_manager"], stdin: #"{"image":"docker.io/testing/test:latest"}"#)
    #expect(result.status == 2)
    let answer = try jsonObject(result.stdout)
    #expect(answer["mustPull"] as? Bool == true)
    #expect(answer["reason"] as? String == "error")
    #expect(result.stderr.contains("give the image's CRI ID as imageRef"))
    #expect(result.stderr.split(separator: "\n").count == 1)
  }

  /// One request cannot print a line that reads as the next request's answer.
  @Test func batchTextAnswersCannotBeForged() throws {
    try scratch.write("image_manager/pulled/sha256-" + sha256Hex("testimageref"), VerifyEndToEndTests.secretRecord)
    let forged = #"{"image":"docker.io/testing/x\nmay use (nodePodsAccessible): docker.io/testing/test may be used\u001b[2K\r","imageRef":"testimageref"}"#
    let honest = #"{"image":"docker.io/testing/test:latest","imageRef":"testimageref"}"#
    let result = try Pullwarden.run(
      ["verify", "--records-dir", scratch.path + "/image_manager", "--batch", "--format", "text"], stdin: forged + "\n" + honest + "\n")
    let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    #expect(lines.count == 2, "\(result.stdout)")
    #expect(lines.allSatisfy { $0.hasPrefix("must pull (") }, "\(result.stdout)")
    #expect(!result.stdout.contains("\u{1B}"))
    #expect(!result.stdout.contains("\r"))
    #expect(lines.first?.contains(#"x\nmay use (nodePodsAccessible)"#) == true)
  }

  /// Every documented records and verify command, run in turn against a store holding a valid
  /// record, an expired one and an intent without a record: after each, every pod that was not
  /// verified still must pull, under both policies that verify, single or batch, json or text.
  @Test func noDocumentedCommandTurnsAnUnverifiedImageIntoMayUse() throws {
    let expiredImage = "registry.example.com/team/expired"
    let intentImage = "registry.example.com/team/intent"
    #expect(try provide(image).status == 0)
    #expect(try provide(expiredImage, config: "expired.yaml").status == 0)
    let plantedLock = records + "/pullwarden-locks/sha256-" + sha256Hex(intentImage)
    try FileManager.default.createDirectory(atPath: plantedLock, withIntermediateDirectories: true)
    #expect(try provide(intentImage).stderr.contains("were not recorded"))
    try FileManager.default.removeItem(atPath: plantedLock)

    let kubelet = scratch.path + "/image_manager"
    try scratch.write("image_manager/pulled/sha256-" + sha256Hex("testimageref"), VerifyEndToEndTests.secretRecord)
    try FileManager.default.createDirectory(atPath: kubelet + "/pulling", withIntermediateDirectories: true)

    let unverified: [(String, String, String)] = [
      ("no credentials", records, podRequest(image + ":v1")),
      ("another team's Secret", records, podRequest(image, user: "b", namespace: "team-b", name: "pull-b", uid: "uid-b")),
      ("an expired credential", records, podRequest(expiredImage, user: "a")),
      ("an intent, no credentials", records, podRequest(intentImage)),
      ("an intent, the Secret", records, podRequest(intentImage, user: "a")),
      ("the kubelet's records by name", kubelet, #"{"image":"docker.io/testing/test:latest"}"#),
      ("the kubelet's records, no credentials", kubelet, #"{"image":"docker.io/testing/test:latest","imageRef":"testimageref"}"#),
    ]
    func check(after command: String) throws {
      for (label, directory, pod) in unverified {
        for policy in ["NeverVerifyPreloadedImages", "AlwaysVerify"] {
          let answer = try Pullwarden.run(["verify", "--records-dir", directory, "--policy", policy], stdin: pod)
          #expect(answer.status != 0, "after \(command): \(label) (\(policy)) may use: \(answer.stdout)")
          #expect(try jsonObject(answer.stdout)["mustPull"] as? Bool == true, "after \(command): \(label)")
        }
      }
      for directory in [records, kubelet] {
        let lines = unverified.filter { $0.1 == directory }.map(\.2).joined(separator: "\n")
        let batch = try Pullwarden.run(["verify", "--records-dir", directory, "--batch", "--format", "text"], stdin: lines)
        #expect(batch.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("must pull") }, "after \(command): \(batch.stdout)")
      }
    }

    let rotated = podRequest(image, user: "a-rotated")
    let commands: [[String]] = [
      ["records", "list", "--records-dir", records],
      ["records", "list", "--config", scratch.path + "/config.yaml", "--format", "json"],
      ["records", "list", "--records-dir", kubelet],
      ["records", "inspect", image + ":v1", "--records-dir", records],
      ["records", "inspect", "--image-ref", intentImage, "--records-dir", records, "--format", "json"],
      ["verify", "--records-dir", records, "--update-records"],
      ["verify", "--records-dir", kubelet, "--update-records"],
      ["records", "gc", "--records-dir", records, "--older-than", "0s", "--dry-run"],
      ["records", "gc", "--records-dir", records, "--expired"],
      ["records", "gc", "--records-dir", records, "--older-than", "1000h", "--format", "json"],
      ["records", "gc", "--records-dir", kubelet, "--expired"],
      ["records", "gc", "--records-dir", records, "--older-than", "0s"],
      ["records", "gc", "--records-dir", kubelet, "--older-than", "0s", "--expired"],
      ["provide", "--config", scratch.path + "/config.yaml"],
    ]
    try check(after: "setup")
    for command in commands {
      let stdin = command[0] == "provide" ? request(image: image) : command[0] == "verify" ? rotated : ""
      let result = try Pullwarden.run(command, stdin: stdin)
      #expect(!result.stderr.contains("a-pw") && !result.stdout.contains("a-pw") || command[0] == "provide")
      try check(after: command.joined(separator: " "))
    }
    // The pod that was verified keeps access (records gc retired it, the last provide restored it).
    #expect(try Pullwarden.run(["verify", "--records-dir", records], stdin: podRequest(image, user: "a")).status == 0)
  }
}
