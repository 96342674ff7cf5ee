import FixtureKit
import Foundation
import Testing

/// Many real `provide` processes at once against one records directory, with `kill -9` landing at
/// random points (a seeded generator: the same kills are sent every run, and the checks hold wherever
/// they land), and a batch verifier reading while they write.
///
/// What must hold afterwards, whatever was killed when: every record and expiry file decodes; no
/// completed update is lost; a credential whose provide was killed before it answered is never
/// evidence for "may use"; no temporary file survives the next write; the verifier never answered
/// from a torn file. `Benchmarks/run` measures the same load for latency (`Benchmarks/load.py`).
@Suite(.serialized) struct CrashLoopEndToEndTests {
  static let images = 8

  let scratch: Scratch
  var records: String { scratch.path + "/records" }

  init() throws { scratch = try Scratch() }

  /// Spawn `s` hands out its own Secret (`pull-s`, user `u-s`) for image `app-(s mod 8)`.
  private func prepare(spawn: Int) throws -> (config: String, request: String) {
    let user = "u-\(spawn)"
    try scratch.write(
      "secrets-\(spawn)/pull.yaml",
      """
      apiVersion: v1
      kind: Secret
      type: kubernetes.io/dockerconfigjson
      metadata: {name: pull-\(spawn), namespace: team, uid: uid-\(spawn)}
      stringData:
        .dockerconfigjson: '{"auths":{"registry.example.com":{"username":"\(user)","password":"\(user)-pw"}}}'

      """)
    let config = try scratch.write(
      "config-\(spawn).yaml",
      "recordsDir: \(records)\nsources: [{name: s, type: secretFiles, matchImages: [registry.example.com], directory: \(scratch.path)/secrets-\(spawn), cacheDuration: 1000h}]\n")
    let request = try scratch.write("request-\(spawn).json", request(image: image(spawn)))
    return (config, request)
  }

  private func image(_ spawn: Int) -> String { "registry.example.com/app-\(spawn % Self.images)" }

  /// One verify --batch line: a pod presenting spawn `s`'s Secret for its image.
  private func podLine(_ spawn: Int) -> String {
    let user = "u-\(spawn)"
    return #"{"image":"\#(image(spawn)):v1","podSecrets":[{"namespace":"other","name":"copy","uid":"x","dockerConfigJSON":{"auths":{"registry.example.com":{"username":"\#(user)","password":"\#(user)-pw"}}}}]}"#
  }

  struct Spawned {
    var process: Process
    var stdout: String
    var killAfter: useconds_t?
  }

  private func spawn(_ index: Int, killAfter: useconds_t?) throws -> Spawned {
    let (config, requestFile) = try prepare(spawn: index)
    let process = Process()
    process.executableURL = Pullwarden.binary
    process.arguments = ["provide", "--config", config]
    process.environment = ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"]
    let out = try scratch.write("out-\(index)", "")
    process.standardInput = FileHandle(forReadingAtPath: requestFile)
    process.standardOutput = FileHandle(forWritingAtPath: out)
    process.standardError = FileHandle.nullDevice
    try process.run()
    return Spawned(process: process, stdout: out, killAfter: killAfter)
  }

  /// Every file under `records` whose name marks it temporary.
  private func temporaryFiles() -> [String] {
    let enumerator = FileManager.default.enumerator(atPath: records)
    var found: [String] = []
    while let path = enumerator?.nextObject() as? String {
      if path.hasSuffix(".tmp") { found.append(path) }
    }
    return found
  }

  @Test func hundredsOfKillsDuringConcurrentProvides() throws {
    var random = SplitMix64(seed: 2535)
    let rounds = 20, perRound = 16
    var completed: [Int] = [], killedBeforeAnswer: [Int] = [], killedAfterAnswer: [Int] = [], killsSent = 0
    for round in 0..<rounds {
      var batch: [(Int, Spawned)] = []
      for slot in 0..<perRound {
        let index = round * perRound + slot
        // One in four runs to the end; one in four is killed at once (before it can answer); half are
        // killed after up to 6 ms, somewhere in or after their work.
        let choice = random.next() % 4
        let delay: useconds_t? = choice == 0 ? nil : choice == 1 ? 0 : useconds_t(random.next() % 6_000)
        let spawned = try spawn(index, killAfter: delay)
        if delay == 0 {
          kill(spawned.process.processIdentifier, SIGKILL)
          killsSent += 1
        }
        batch.append((index, spawned))
      }
      var elapsed: useconds_t = 0
      for (_, spawned) in batch.sorted(by: { ($0.1.killAfter ?? 0) < ($1.1.killAfter ?? 0) }) {
        guard let delay = spawned.killAfter, delay > 0 else { continue }
        // Fault injection, not synchronisation: each check below holds wherever the kill lands.
        if delay > elapsed {
          usleep(delay - elapsed)
          elapsed = delay
        }
        kill(spawned.process.processIdentifier, SIGKILL)
        killsSent += 1
      }
      for (index, spawned) in batch {
        spawned.process.waitUntilExit()
        let answered = !(try String(contentsOfFile: spawned.stdout, encoding: .utf8)).isEmpty
        switch (spawned.process.terminationReason, spawned.process.terminationStatus) {
        case (.exit, 0):
          #expect(answered, "spawn \(index) exited 0 without an answer")
          completed.append(index)
        case (.uncaughtSignal, SIGKILL) where spawned.killAfter != nil:
          if answered { killedAfterAnswer.append(index) } else { killedBeforeAnswer.append(index) }
        default:
          Issue.record("spawn \(index) failed: \(spawned.process.terminationReason) \(spawned.process.terminationStatus)")
        }
      }
    }
    print("crash loop: \(rounds * perRound) provides, \(killsSent) kill -9 sent, \(completed.count) completed, \(killedBeforeAnswer.count) killed before answering, \(killedAfterAnswer.count) after")
    // A kill sent right after the spawn lands long before the 2–10 ms a run takes to answer.
    #expect(!killedBeforeAnswer.isEmpty && !completed.isEmpty)

    // Every file decodes.
    let list = try Pullwarden.run(["records", "list", "--records-dir", records, "--format", "json"])
    #expect(list.status == 0, "\(list.stderr)")
    let items = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
    #expect(items.allSatisfy { $0["status"] as? String == "ok" }, "\(list.stdout)")

    // No completed update is lost; no credential nobody received is evidence for reuse.
    let spawns = completed + killedBeforeAnswer
    let lines = spawns.map(podLine).joined(separator: "\n") + "\n"
    let batch = try Pullwarden.run(["verify", "--batch", "--records-dir", records, "--policy", "AlwaysVerify"], stdin: lines)
    let answers = batch.stdout.split(separator: "\n").map(String.init)
    #expect(answers.count == spawns.count, "\(batch.stderr)")
    for (spawn, answer) in zip(spawns, answers) {
      let mustPull = try jsonObject(answer)["mustPull"] as? Bool
      if completed.contains(spawn) {
        #expect(mustPull == false, "completed spawn \(spawn) lost its record: \(answer)")
      } else {
        #expect(mustPull == true, "spawn \(spawn) was killed before answering, yet its Secret may reuse the image: \(answer)")
      }
    }

    // The next write of each image leaves no temporary file behind, whoever left one.
    for image in 0..<Self.images {
      let index = rounds * perRound + image
      let (config, requestFile) = try prepare(spawn: index)
      let next = try Pullwarden.run(["provide", "--config", config], stdin: try String(contentsOfFile: requestFile, encoding: .utf8))
      #expect(next.status == 0, "\(next.stderr)")
    }
    #expect(temporaryFiles().isEmpty, "\(temporaryFiles())")
  }

  /// 200 provides at once (each its own Secret, 8 images) while one batch verifier reads the same
  /// records: no failed call, no lost update, every verifier answer well formed and none an error
  /// (a torn read would be an unreadable record).
  @Test func twoHundredConcurrentProvidesBesideABatchVerifier() throws {
    let count = 200
    var spawned: [(Int, Spawned)] = []
    let verifier = Process()
    verifier.executableURL = Pullwarden.binary
    verifier.arguments = ["verify", "--batch", "--records-dir", records, "--policy", "AlwaysVerify"]
    let verifierInput = Pipe(), verifierOutput = try scratch.write("verifier.out", "")
    verifier.standardInput = verifierInput
    verifier.standardOutput = FileHandle(forWritingAtPath: verifierOutput)
    verifier.standardError = FileHandle.nullDevice
    // A first record, so the verifier has a store to read from the start.
    let (firstConfig, firstRequest) = try prepare(spawn: count)
    #expect(try Pullwarden.run(["provide", "--config", firstConfig], stdin: try String(contentsOfFile: firstRequest, encoding: .utf8)).status == 0)
    try verifier.run()
    for index in 0..<count { spawned.append((index, try spawn(index, killAfter: nil))) }
    // The verifier reads while the providers write: one request per spawn, asked as they run.
    var asked = 0
    for (index, _) in spawned {
      try verifierInput.fileHandleForWriting.write(contentsOf: Data((podLine(index) + "\n").utf8))
      asked += 1
    }
    for (index, process) in spawned {
      process.process.waitUntilExit()
      #expect(process.process.terminationReason == .exit && process.process.terminationStatus == 0, "provide \(index) failed")
    }
    try verifierInput.fileHandleForWriting.close()
    verifier.waitUntilExit()
    expectNoSignal(verifier)
    let answers = try String(contentsOfFile: verifierOutput, encoding: .utf8).split(separator: "\n")
    #expect(answers.count == asked)
    for answer in answers {
      let reason = try jsonObject(String(answer))["reason"] as? String
      #expect(reason != nil && reason != "error" && reason != "recordUnreadable", "\(answer)")
    }
    // After the writers: every Secret is in its image's record.
    let lines = (0..<count).map(podLine).joined(separator: "\n") + "\n"
    let after = try Pullwarden.run(["verify", "--batch", "--records-dir", records, "--policy", "AlwaysVerify"], stdin: lines)
    let decisions = try after.stdout.split(separator: "\n").map { try jsonObject(String($0))["mustPull"] as? Bool }
    #expect(decisions.count == count)
    #expect(decisions.allSatisfy { $0 == false }, "lost updates: \(decisions.enumerated().filter { $0.element != false }.map(\.offset))")
  }
}

/// A tiny seedable generator (SplitMix64), so the crash loop sends the same kills every run.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
