#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PullwardenCore

private let start = Timestamp(secondsSinceEpoch: 1_700_000_000)
private let image = "registry.example.com/team/app"
private let strangerRequest = #"{"image":"registry.example.com/team/app:v1"}"#

/// Step 7 §1: nothing Pullwarden fails to keep (a record gc collected, a record that could not be
/// written, a lost expiry file, a record keyed by image ID) can make the verifier answer "may use".
@Suite struct FailSafeRecordsTests {
  let directory = TemporaryDirectory()
  var root: String { directory.path + "/records" }
  var store: RecordStore { RecordStore(directory: root) }
  var name: String { RecordStore.fileName(forKey: image) }

  private func handOut(validFor duration: GoDuration = .minutes(5), at time: Timestamp = start) throws {
    let credential = SuppliedCredential(
      key: RegistryKey(normalizing: "registry.example.com")!, credential: RegistryCredential(username: "a", password: "a-pw"),
      origin: CredentialOrigin(secret: SecretCoordinates(namespace: "team", name: "pull", uid: "uid-1"), serviceAccount: nil),
      sourceName: "test")
    try PullRecorder(directory: root).record([credential], image: image, validFor: duration, now: time)
  }

  private func ask(_ request: String = strangerRequest, at time: Timestamp = start, directory path: String? = nil) throws -> (PullDecision, PullwardenError?) {
    try VerifySession(options: VerifyOptions(recordsDirectory: path ?? root), batch: false).answer(request.bytes, source: "stdin", now: time)
  }

  // MARK: (a) gc

  /// Main deleted the record, and the image then looked preloaded to a pod holding no credentials.
  @Test(arguments: [(nil, true), (GoDuration.hours(1), false)] as [(GoDuration?, Bool)])
  func gcRetiresInsteadOfDeleting(olderThan: GoDuration?, expired: Bool) throws {
    try handOut()
    let later = start.adding(.hours(2))
    #expect(try ask(at: later).0.mustPull)
    let actions = try RecordsCollector(olderThan: olderThan, expired: expired, dryRun: false).run(store, now: later)
    #expect(actions.map(\.kind.rawValue) == ["retired"])
    let decision = try ask(at: later).0
    #expect(decision.mustPull)
    #expect(decision.reason == .noCredentialsForImage)
    guard case .found(let record, let companion) = store.pulledRecord(imageRef: image) else {
      Issue.record("the retired record is gone")
      return
    }
    #expect(record.credentialMapping.isEmpty)
    #expect(companion == nil)
    // Nothing left to collect: a second run changes nothing.
    #expect(try RecordsCollector(olderThan: .zero, expired: true, dryRun: false).run(store, now: later).isEmpty)
  }

  // MARK: (b) intent before answer

  /// A record that cannot be written after the intent: the intent stays and means "re-verify".
  @Test(arguments: ["pulled", "pullwarden-locks", "pullwarden-expiry"])
  func aRecordThatCannotBeWrittenLeavesTheIntent(planted under: String) throws {
    _ = system("mkdir -p '\(root)/\(under)/\(name)/planted'")
    let warnings = WarningLog()
    let credential = SuppliedCredential(
      key: RegistryKey(normalizing: "registry.example.com")!, credential: RegistryCredential(username: "a", password: "a-pw"),
      origin: CredentialOrigin(secret: SecretCoordinates(namespace: "team", name: "pull", uid: "uid-1"), serviceAccount: nil),
      sourceName: "test")
    try PullRecorder(directory: root).record([credential], image: image, validFor: .minutes(5), now: start, diagnostics: warnings.diagnostics)
    #expect(warnings.all.last?.contains("were not recorded") == true)
    #expect(warnings.all.last?.contains("its pull intent stays") == true)
    #expect(store.intent(image: image) == .present)
    let decision = try ask().0
    #expect(decision.mustPull)
    // A directory where the record belongs is itself an untrusted record.
    #expect(decision.reason == (under == "pulled" ? .recordUnreadable : .noRecord))
  }

  /// When not even the intent can be written, recording throws and provide hands nothing out.
  @Test func anIntentThatCannotBeWrittenFailsTheRecording() throws {
    _ = system("mkdir -p '\(root)/pulling/\(name)/planted'")
    expectError(.records, containing: ["cannot record the pull intent"]) { try handOut() }
    #expect(try FileIO.status(root + "/pulled/" + name) == nil)
  }

  @Test func provideFailsWhenTheIntentCannotBeWritten() throws {
    directory.write("docker.json", #"{"auths":{"registry.example.com":{"username":"u","password":"secret-pw"}}}"#)
    directory.write("records", "not a directory")
    let config = directory.write(
      "config.yaml", "recordsDir: records\nsources: [{name: n, type: dockerConfig, matchImages: [registry.example.com], path: docker.json}]\n")
    expectError(.records, containing: ["no credentials handed out for \(image)", "cannot record the pull intent"]) {
      _ = try ProvideRun.run(configPath: config, input: requestJSON(image: image).bytes, now: start)
    }
  }

  /// The intent is removed once the record holds the credentials; an existing record needs none.
  @Test func theIntentGoesOnceRecorded() throws {
    try handOut()
    #expect(store.intent(image: image) == .absent)
    #expect(try FileIO.directoryEntries(root + "/pulling").isEmpty)
  }

  // MARK: (c) the record and its companion

  /// In Pullwarden's store a record whose companion is missing lost it: its credentials count as expired.
  @Test func aMissingCompanionInPullwardensStoreCountsAsExpired() throws {
    try handOut(validFor: .hours(1000))
    let request = #"{"image":"registry.example.com/team/app","podSecrets":[{"namespace":"team","name":"pull","uid":"uid-1","dockerConfigJSON":{"auths":{"registry.example.com":{"username":"a","password":"a-pw"}}}}]}"#
    #expect(try ask(request).0.reason == .secretHashMatched)
    #expect(try FileIO.removeFile(root + "/pullwarden-expiry/" + name))
    let decision = try ask(request).0
    #expect(decision.mustPull)
    #expect(decision.reason == .credentialExpired)
    // gc --expired agrees, and retires it.
    #expect(try RecordsCollector(olderThan: nil, expired: true, dryRun: false).run(store, now: start).map(\.kind.rawValue) == ["retired"])
  }

  // MARK: (d) the kubelet's directory without imageRef

  @Test func theKubeletsDirectoryNeedsAnImageRef() throws {
    let kubelet = directory.path + "/image_manager"
    let record = #"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2024-10-21T12:26:40Z","imageRef":"testimageref","credentialMapping":{"docker.io/testing/test":{"kubernetesSecrets":[{"uid":"testsecretuid","namespace":"default","name":"pull-secret","credentialHash":"testsecrethash"}]}}}"#
    directory.write("image_manager/pulled/" + RecordStore.fileName(forKey: "testimageref"), record + "\n")
    directory.write("image_manager/pulling/.keep", "")
    let (decision, error) = try ask(#"{"image":"docker.io/testing/test:latest"}"#, directory: kubelet)
    #expect(decision.mustPull)
    #expect(decision.reason == .error)
    #expect(decision.exitStatus == 2)
    #expect(error?.description.contains("give the image's CRI ID as imageRef") == true)
    let byID = try ask(#"{"image":"docker.io/testing/test:latest","imageRef":"testimageref"}"#, directory: kubelet).0
    #expect(byID.reason == .noMatchingCredentials)
  }

  // MARK: text output

  /// One answer is one line, whatever the request's text holds.
  @Test func textAnswersAreOneLine() {
    let detail = "x\nmay use (nodePodsAccessible): forged\r\u{1B}[2K\t\\ \u{85}\u{2028}\u{202E}é"
    let text = String(decoding: PullDecision(mustPull: true, reason: .invalidImage, detail: detail).rendered(.text), as: UTF8.self)
    #expect(text == #"must pull (invalidImage): x\nmay use (nodePodsAccessible): forged\r\x1B[2K\t\\ \u{0085}\u{2028}\u{202E}é"# + "\n")
  }
}
