import Testing

@testable import PullwardenCore

private let start = Timestamp(secondsSinceEpoch: 1_700_000_000)
private let image = "registry.example.com/team/app"

/// Verification against Pullwarden's own records: keyed by image name, with expiry.
@Suite struct VerifyTests {
  let directory = TemporaryDirectory()
  var root: String { directory.path + "/records" }

  private func handOut(
    _ username: String, secret: (String, String, String)? = nil, account: (String, String, String)? = nil,
    for name: String = image, validFor duration: GoDuration = .minutes(5), at time: Timestamp = start
  ) throws {
    let credential = SuppliedCredential(
      key: RegistryKey(normalizing: "registry.example.com")!, credential: RegistryCredential(username: username, password: username + "-pw"),
      origin: CredentialOrigin(
        secret: secret.map { SecretCoordinates(namespace: $0.0, name: $0.1, uid: $0.2) },
        serviceAccount: account.map { ServiceAccountCoordinates(namespace: $0.0, name: $0.1, uid: $0.2) }),
      sourceName: "test")
    try PullRecorder(directory: root).record([credential], image: name, validFor: duration, now: time)
  }

  private func ask(_ request: String, at time: Timestamp, policy: VerificationPolicy = .neverVerifyPreloadedImages) throws -> PullDecision {
    var options = VerifyOptions(recordsDirectory: root)
    options.policy = policy
    let (decision, error) = try VerifySession(options: options, batch: false).answer(request.bytes, source: "stdin", now: time)
    #expect(error == nil)
    return decision
  }

  private func secretRequest(image requested: String = "registry.example.com/team/app:v1", user: String) -> String {
    #"{"image":"\#(requested)","podSecrets":[{"namespace":"team","name":"pull","uid":"uid-1","dockerConfigJSON":{"auths":{"registry.example.com":{"username":"\#(user)","password":"\#(user)-pw"}}}}]}"#
  }

  @Test func aPodWithTheRecordedSecretMayReuseUntilItExpires() throws {
    try handOut("a", secret: ("team", "pull", "uid-1"))
    let request = secretRequest(user: "a")
    #expect(try ask(request, at: start.adding(.minutes(4))).reason == .secretHashMatched)
    let late = try ask(request, at: start.adding(.minutes(5)))
    #expect(late.mustPull)
    #expect(late.reason == .credentialExpired)
    #expect(late.detail.contains("expired at 2023-11-14T22:18:20Z"))
    // A later hand-out extends it.
    try handOut("a", secret: ("team", "pull", "uid-1"), at: start.adding(.minutes(10)))
    #expect(try ask(request, at: start.adding(.minutes(12))).mustPull == false)
  }

  @Test func podsWithoutTheCredentialMustPull() throws {
    try handOut("a", secret: ("team", "pull", "uid-1"))
    let stranger = try ask(#"{"image":"registry.example.com/team/app"}"#, at: start)
    #expect(stranger.reason == .noMatchingCredentials)
    let otherSecret = try ask(
      #"{"image":"registry.example.com/team/app","podSecrets":[{"namespace":"x","name":"y","uid":"z","dockerConfigJSON":{"auths":{"registry.example.com":{"username":"b","password":"b-pw"}}}}]}"#,
      at: start)
    #expect(otherSecret.reason == .noMatchingCredentials)
    // A docker config for another registry contributes nothing.
    let elsewhere = try ask(
      #"{"image":"registry.example.com/team/app","podSecrets":[{"namespace":"team","name":"pull","uid":"uid-9","dockerConfigJSON":{"auths":{"other.example.com":{"username":"a","password":"a-pw"}}}}]}"#,
      at: start)
    #expect(elsewhere.reason == .noMatchingCredentials)
  }

  /// An expired match does not stop another, valid one from allowing reuse.
  @Test func anExpiredEntryIsSkippedNotFatal() throws {
    try handOut("a", secret: ("team", "old", "uid-old"), validFor: .minutes(1))
    try handOut("a", secret: ("team", "pull", "uid-1"), validFor: .hours(1))
    let decision = try ask(secretRequest(user: "a"), at: start.adding(.minutes(30)))
    #expect(decision.mustPull == false)
    #expect(decision.detail.contains("team/pull"))
  }

  @Test func nodeWideAndServiceAccountAccessExpireToo() throws {
    try handOut("node", for: "registry.example.com/base/image")
    let node = #"{"image":"registry.example.com/base/image:1"}"#
    #expect(try ask(node, at: start.adding(.minutes(1))).reason == .nodePodsAccessible)
    #expect(try ask(node, at: start.adding(.minutes(6))).reason == .credentialExpired)

    try handOut("sa", account: ("apps", "builder", "sa-uid"), validFor: .minutes(1))
    let account = #"{"image":"registry.example.com/team/app","podServiceAccount":{"namespace":"apps","name":"builder","uid":"sa-uid"}}"#
    #expect(try ask(account, at: start).reason == .serviceAccountMatched)
    #expect(try ask(account, at: start.adding(.minutes(2))).reason == .credentialExpired)
  }

  /// Without imageRef the normalized image name is the key: short names find their records.
  @Test func shortNamesAreNormalized() throws {
    try handOut("node", for: "docker.io/library/nginx")
    #expect(try ask(#"{"image":"nginx:1.27"}"#, at: start).reason == .nodePodsAccessible)
    #expect(try ask(#"{"image":"nginx@sha256:38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd"}"#, at: start).reason == .nodePodsAccessible)
  }

  @Test func imagesPullwardenNeverServedArePreloaded() throws {
    try handOut("a", secret: ("team", "pull", "uid-1"))
    #expect(try ask(#"{"image":"registry.example.com/other/app"}"#, at: start).reason == .preloadedImage)
    #expect(try ask(#"{"image":"registry.example.com/other/app"}"#, at: start, policy: .alwaysVerify).reason == .noRecord)
    #expect(try ask(#"{"image":"Not A Valid Image"}"#, at: start).reason == .invalidImage)
  }

  /// A record entry without an expiry in an existing companion counts as expired; a record with no
  /// companion at all never expires in the kubelet's directory, but has lost it in Pullwarden's.
  @Test func unknownExpiryIsExpiredButNoCompanionIsUnlimitedOnlyForTheKubelet() throws {
    let key = "registry.example.com/team/app"
    let name = RecordStore.fileName(forKey: key)
    let record = ImagePulledRecord(
      lastUpdatedTime: start, imageRef: key, credentialMapping: [key: ImagePullCredentials(nodePodsAccessible: true)])
    directory.write("records/pulled/" + name, String(decoding: record.encoded(), as: UTF8.self))
    let byID = #"{"image":"registry.example.com/team/app","imageRef":"registry.example.com/team/app"}"#
    #expect(try ask(byID, at: start.adding(.hours(10_000))).reason == .nodePodsAccessible)
    directory.write("records/pullwarden-expiry/.keep", "")
    let lost = try ask(#"{"image":"registry.example.com/team/app"}"#, at: start)
    #expect(lost.reason == .credentialExpired)
    #expect(try ask(byID, at: start).reason == .credentialExpired)
    directory.write("records/pullwarden-expiry/" + name, String(decoding: CredentialExpiry(imageRef: key).encoded(), as: UTF8.self))
    let decision = try ask(#"{"image":"registry.example.com/team/app"}"#, at: start)
    #expect(decision.reason == .credentialExpired)
    #expect(decision.detail.contains("no known expiry"))
  }

  @Test func unreadableRecordsForceVerification() throws {
    directory.write("records/pulled/" + RecordStore.fileName(forKey: image), "{\"kind\":")
    directory.write("records/pullwarden-expiry/.keep", "")
    let decision = try ask(#"{"image":"registry.example.com/team/app"}"#, at: start, policy: .neverVerify)
    #expect(decision.mustPull)
    #expect(decision.reason == .recordUnreadable)
  }

  /// Batch sessions remember records they found, but look again for ones they did not: a record
  /// written meanwhile by a provider must be seen.
  @Test func batchRemembersOnlyWhatItFound() throws {
    directory.write("records/pulled/.keep", "")
    directory.write("records/pullwarden-expiry/.keep", "")
    let session = try VerifySession(options: VerifyOptions(recordsDirectory: root), batch: true)
    let request = #"{"image":"registry.example.com/team/app"}"#
    #expect(session.answer(request.bytes, source: "line 1", now: start).0.reason == .preloadedImage)
    try handOut("a", secret: ("team", "pull", "uid-1"))
    #expect(session.answer(request.bytes, source: "line 2", now: start).0.reason == .noMatchingCredentials)
  }

  @Test(arguments: [
    (#"{"image":"a.io/x","podSecret":[]}"#, "unknown key \"podSecret\" (did you mean \"podSecrets\"?)"),
    (#"{"imageRef":"x"}"#, "missing required field \"image\""),
    (#"{"image":""}"#, "\"image\" must not be empty"),
    (#"{"image":"a.io/x","podSecrets":[{"namespace":"n","name":"s","uid":"u"}]}"#, "missing \"credentialHash\" or \"dockerConfigJSON\""),
    (#"{"image":"a.io/x","podSecrets":[{"namespace":"n","name":"s","uid":"u","credentialHash":"h","dockerConfigJSON":{}}]}"#, "not both"),
    (#"{"image":"a.io/x","podSecrets":[{"namespace":"n","name":"s","uid":"u","dockerConfigJSON":{"auths":{"a.io":{"auth":"!!secret!!"}}}}]}"#, "\"auth\" is not base64"),
    (#"{"image":"a.io/x","podServiceAccount":{"namespace":"n","name":"s"}}"#, "missing required field \"uid\""),
    (#"{"image":"a.io/x","imageRef":5}"#, "\"imageRef\" must be a string"),
    ("", "no request"),
  ])
  func badRequestsAreErrorsNamingTheField(text: String, fragment: String) throws {
    directory.write("records/pulled/.keep", "")
    let (decision, error) = try VerifySession(options: VerifyOptions(recordsDirectory: root), batch: false).answer(text.bytes, source: "stdin", now: start)
    #expect(decision.mustPull)
    #expect(decision.reason == .error)
    #expect(error?.description.contains(fragment) == true, "\(String(describing: error))")
    #expect(error?.description.contains("!!secret!!") == false)
  }

  @Test func dockerConfigSecretsYieldOneCredentialPerMatchingEntry() throws {
    let request = try VerifyRequest.decode(
      #"{"image":"quay.io/team/app:1","podSecrets":[{"namespace":"n","name":"s","uid":"u","dockerConfigJSON":{"auths":{"quay.io":{"auth":"dXNlcjpwYXNzd29yZA=="},"quay.io/team":{"username":"t","password":"p"},"ghcr.io":{"username":"g","password":"p"}}}}]}"#.bytes)
    #expect(request.podSecrets.count == 2)
    #expect(request.podSecrets[1].credentialHash == "a55436fc140d516560d072c5fe8700385ce9f41629abf65c1edcbcb39fac691d")
    #expect(request.podSecrets.allSatisfy { $0.uid == "u" && $0.namespace == "n" && $0.name == "s" })
  }

  @Test func decisionsRenderAsOneLine() {
    let decision = PullDecision(mustPull: true, reason: .noRecord, detail: "d \"q\"")
    #expect(String(decoding: decision.rendered(.json), as: UTF8.self) == #"{"mustPull":true,"reason":"noRecord","detail":"d \"q\""}"# + "\n")
    #expect(String(decoding: decision.rendered(.text), as: UTF8.self) == "must pull (noRecord): d \"q\"\n")
    #expect(decision.exitStatus == 1)
    #expect(PullDecision.error(PullwardenError(.request, "x")).exitStatus == 2)
  }
}
