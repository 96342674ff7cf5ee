import Testing

@testable import PullwardenCore

private let image = "docker.io/testing/test:latest"
private let now = Timestamp(secondsSinceEpoch: 1_735_084_800)
private let secret1 = ImagePullSecret(uid: "testsecretuid", namespace: "default", name: "pull-secret", credentialHash: "testsecrethash")
private let testSA = ImagePullServiceAccount(uid: "test-sa-uid", namespace: "default", name: "test-sa")

/// The kubelet's `TestFileBasedImagePullManager_MustAttemptImagePull` (spec §9.1), every row, on a
/// real directory holding the kubelet's testdata bytes.
@Suite struct PullDecisionTests {
  struct Row: Sendable, CustomTestStringConvertible {
    var number: Int
    var policy: VerificationPolicy = .neverVerifyPreloadedImages
    var secrets: [ImagePullSecret] = []
    var account: ImagePullServiceAccount?
    var image = "docker.io/testing/test:latest"
    var imageRef: String
    var intent = false
    var mustPull: Bool
    var reason: PullDecision.Reason
    /// The table's "creds?" column: whether the pod's credentials are looked up.
    var consulted: Bool
    var note = ""
    var testDescription: String { "row \(number)\(note.isEmpty ? "" : " (\(note))")" }
  }

  static let rows: [Row] = [
    Row(number: 1, secrets: [secret1], imageRef: "testimageref", mustPull: false, reason: .secretHashMatched, consulted: true),
    Row(number: 2, imageRef: "testimageref", mustPull: true, reason: .noMatchingCredentials, consulted: true),
    Row(
      number: 3, secrets: [ImagePullSecret(uid: "testsecretuid", namespace: "default", name: "pull-secret", credentialHash: "differenthash")],
      imageRef: "testimageref", mustPull: false, reason: .secretCoordinatesMatched, consulted: true),
    Row(
      number: 4, secrets: [ImagePullSecret(uid: "different uid", namespace: "default", name: "pull-secret", credentialHash: "differenthash")],
      imageRef: "testimageref", mustPull: true, reason: .noMatchingCredentials, consulted: true),
    Row(
      number: 5, secrets: [ImagePullSecret(uid: "testsecretuid", namespace: "differentns", name: "pull-secret", credentialHash: "differenthash")],
      imageRef: "testimageref", mustPull: true, reason: .noMatchingCredentials, consulted: true),
    Row(
      number: 6, secrets: [ImagePullSecret(uid: "testsecretuid", namespace: "differentns", name: "pull-secret", credentialHash: "testsecrethash")],
      imageRef: "testimageref", mustPull: false, reason: .secretHashMatched, consulted: true),
    Row(
      number: 7, secrets: [secret1], image: "docker.io/testing/different:latest", imageRef: "testimageref", mustPull: true,
      reason: .noCredentialsForImage, consulted: false, note: "released logic; the PR-branch test of #138211/#139156 expects false"),
    Row(number: 8, imageRef: "testemptycredmapping", mustPull: true, reason: .noCredentialsForImage, consulted: false),
    Row(number: 9, imageRef: "", mustPull: true, reason: .imageRefEmpty, consulted: false),
    Row(number: 10, imageRef: "testexistingref", mustPull: false, reason: .preloadedImage, consulted: false),
    Row(number: 11, policy: .alwaysVerify, imageRef: "testexistingref", mustPull: true, reason: .noRecord, consulted: false),
    Row(number: 12, secrets: [secret1], imageRef: "testexistingref", intent: true, mustPull: true, reason: .noRecord, consulted: false),
    Row(number: 13, policy: .neverVerify, secrets: [secret1], imageRef: "testexistingref", intent: true, mustPull: false, reason: .policyNeverVerify, consulted: false),
    Row(number: 14, imageRef: "testimage-anonpull", mustPull: false, reason: .nodePodsAccessible, consulted: false),
    Row(number: 15, secrets: [secret1], imageRef: "testimage-anonpull", mustPull: false, reason: .nodePodsAccessible, consulted: false),
    Row(
      number: 16, secrets: [ImagePullSecret(uid: "testsecretuid", namespace: "differentns", name: "pull-secret", credentialHash: "")],
      imageRef: "test-brokenhash", mustPull: true, reason: .noMatchingCredentials, consulted: true),
    Row(
      number: 17, secrets: [ImagePullSecret(uid: "testsecretuid", namespace: "default", name: "pull-secret", credentialHash: "")],
      imageRef: "test-brokenhash", mustPull: false, reason: .secretCoordinatesMatched, consulted: true),
    Row(number: 18, account: testSA, imageRef: "testimageref-sa", mustPull: false, reason: .serviceAccountMatched, consulted: true),
    Row(number: 19, imageRef: "testimageref", mustPull: true, reason: .noMatchingCredentials, consulted: true),
    Row(
      number: 20, account: ImagePullServiceAccount(uid: "different-sa-uid", namespace: "default", name: "test-sa"), imageRef: "testimageref-sa",
      mustPull: true, reason: .noMatchingCredentials, consulted: true),
    Row(
      number: 21, account: ImagePullServiceAccount(uid: "test-sa-uid", namespace: "different-ns", name: "test-sa"), imageRef: "testimageref-sa",
      mustPull: true, reason: .noMatchingCredentials, consulted: true),
    Row(
      number: 22, account: testSA, image: "docker.io/testing/different:latest", imageRef: "testimageref-sa", mustPull: true,
      reason: .noCredentialsForImage, consulted: false, note: "released logic; the PR-branch test expects false"),
    Row(number: 23, account: testSA, imageRef: "testexistingref", intent: true, mustPull: true, reason: .noRecord, consulted: false),
    Row(number: 24, policy: .neverVerify, account: testSA, imageRef: "testexistingref", intent: true, mustPull: false, reason: .policyNeverVerify, consulted: false),
    Row(number: 25, account: testSA, imageRef: "testimage-anonpull", mustPull: false, reason: .nodePodsAccessible, consulted: false),
  ]

  @Test(arguments: rows, KubeletRules.allCases)
  func mustAttemptImagePull(_ row: Row, rules: KubeletRules) throws {
    let directory = TemporaryDirectory()
    let root = KubeletTestdata.install(in: directory, intent: row.intent)
    let verifier = PullVerifier(policy: try CredentialVerificationPolicy(row.policy, rules: rules))
    let request = VerifyRequest(image: row.image, imageRef: row.imageRef, podSecrets: row.secrets, podServiceAccount: row.account)
    let decision = verifier.decide(request, records: RecordReader(store: RecordStore(directory: root), remember: false), now: now)
    #expect(decision.mustPull == row.mustPull, "\(decision.detail)")
    #expect(decision.reason == row.reason)
    #expect(decision.consultedPodCredentials == row.consulted)
  }

  /// Rows 3 and 6 also change the record, and only with `--update-records`.
  @Test func rotationWritesHappenOnlyWhenAsked() throws {
    let directory = TemporaryDirectory()
    let root = KubeletTestdata.install(in: directory)
    let path = root + "/pulled/" + RecordStore.fileName(forKey: "testimageref")
    let original = String.contents(of: path)
    let rotated = #"{"image":"docker.io/testing/test:latest","imageRef":"testimageref","podSecrets":[{"uid":"testsecretuid","namespace":"default","name":"pull-secret","credentialHash":"differenthash"}]}"#

    var options = VerifyOptions(recordsDirectory: root)
    let readOnly = try VerifySession(options: options, batch: false)
    #expect(readOnly.answer(rotated.bytes, source: "t", now: now).0.reason == .secretCoordinatesMatched)
    #expect(String.contents(of: path) == original)
    #expect(try FileIO.directoryEntries(root) == ["pulled", "pulling"])

    options.updateRecords = true
    let updating = try VerifySession(options: options, batch: false)
    #expect(updating.answer(rotated.bytes, source: "t", now: now).0.reason == .secretCoordinatesMatched)
    #expect(
      String.contents(of: path)
        == #"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2024-12-25T00:00:00Z","imageRef":"testimageref","credentialMapping":{"docker.io/testing/test":{"kubernetesSecrets":[{"uid":"testsecretuid","namespace":"default","name":"pull-secret","credentialHash":"differenthash"}]}}}"#
          + "\n")

    // Row 6: the same hash under other coordinates is appended, sorted.
    let other = #"{"image":"docker.io/testing/test:latest","imageRef":"testimageref","podSecrets":[{"uid":"testsecretuid","namespace":"differentns","name":"pull-secret","credentialHash":"differenthash"}]}"#
    #expect(updating.answer(other.bytes, source: "t", now: now).0.reason == .secretHashMatched)
    guard case .found(let record, let expiry) = RecordStore(directory: root).pulledRecord(imageRef: "testimageref") else {
      Issue.record("record lost")
      return
    }
    #expect(record.credentialMapping["docker.io/testing/test"]?.kubernetesSecrets.map(\.namespace) == ["default", "differentns"])
    // The kubelet's directory gains no companion: its records never expire.
    #expect(expiry == nil)
  }

  /// Version-1.35 files are rewritten in their own version, so a 1.34 kubelet can still read them.
  @Test func rotationKeepsTheFileVersion() throws {
    let directory = TemporaryDirectory()
    let root = KubeletTestdata.install(in: directory, version: .v1alpha1)
    var options = VerifyOptions(recordsDirectory: root)
    options.updateRecords = true
    let session = try VerifySession(options: options, batch: false)
    let rotated = #"{"image":"docker.io/testing/test:latest","imageRef":"testimageref","podSecrets":[{"uid":"testsecretuid","namespace":"default","name":"pull-secret","credentialHash":"differenthash"}]}"#
    #expect(session.answer(rotated.bytes, source: "t", now: now).0.mustPull == false)
    #expect(String.contents(of: root + "/pulled/" + RecordStore.fileName(forKey: "testimageref")).contains("\"apiVersion\":\"kubelet.config.k8s.io/v1alpha1\""))
  }

  /// At 100 recorded Secrets the kubelet stops writing while matching; a coordinates-only match then
  /// falls through (spec §5.2, the asymmetry), a hash match still allows reuse.
  @Test func writeWhileMatchingLimit() throws {
    func decide(secretCount: Int, pod: ImagePullSecret) -> PullDecision {
      let secrets = (0..<secretCount).map { ImagePullSecret(uid: "uid\($0)", namespace: "ns", name: "s\($0)", credentialHash: "hash\($0)") }
      let record = ImagePulledRecord(lastUpdatedTime: now, imageRef: "ref", credentialMapping: ["docker.io/testing/test": ImagePullCredentials(kubernetesSecrets: secrets)])
      let verifier = PullVerifier(policy: try! CredentialVerificationPolicy(.alwaysVerify))
      return verifier.decide(
        VerifyRequest(image: image, imageRef: "ref", podSecrets: [pod]), records: MemoryRecords(["ref": .found(record, nil)]), now: now)
    }
    let rotated = ImagePullSecret(uid: "uid5", namespace: "ns", name: "s5", credentialHash: "new")
    let copied = ImagePullSecret(uid: "other", namespace: "ns2", name: "copy", credentialHash: "hash5")
    #expect(decide(secretCount: 99, pod: rotated).reason == .secretCoordinatesMatched)
    #expect(decide(secretCount: 99, pod: rotated).recordUpdate != nil)
    #expect(decide(secretCount: 100, pod: rotated).reason == .noMatchingCredentials)
    #expect(decide(secretCount: 99, pod: copied).recordUpdate?.secret == copied)
    #expect(decide(secretCount: 100, pod: copied).reason == .secretHashMatched)
    #expect(decide(secretCount: 100, pod: copied).recordUpdate == nil)
  }

  /// Released behaviour (kubernetes#138175, open): a preloaded image that shares its imageRef with
  /// an image pulled with a Secret counts as kubelet-pulled, so a pod must re-verify it. The PR-branch
  /// test TestPreloadedImageNotPoisonedByPullFromDifferentRepo expects the opposite.
  @Test func releasedBehaviourPreloadedImagePoisonedBySharedImageRef() throws {
    let verifier = PullVerifier(policy: try CredentialVerificationPolicy(.neverVerifyPreloadedImages))
    let publicImage = "quay.io/mowsiany/qa-multi-arch:foo"
    let shared = "sha256:6446…998b"
    let before = verifier.decide(VerifyRequest(image: publicImage, imageRef: shared), records: MemoryRecords([:]), now: now)
    #expect(before.mustPull == false)
    let record = try #require(
      ImagePulledRecord.recording(
        ImagePullCredentials(kubernetesSecrets: [secret1]), forImage: try KubeletRules.normalizedNames.imageName("quay.io/mowsiany/qa-multi-arch-priv:foo"),
        imageRef: shared, into: nil, now: now))
    #expect(record.credentialMapping.keys.first == "quay.io/mowsiany/qa-multi-arch-priv")
    let after = verifier.decide(VerifyRequest(image: publicImage, imageRef: shared), records: MemoryRecords([shared: .found(record, nil)]), now: now)
    #expect(after.mustPull == true)
    #expect(after.reason == .noCredentialsForImage)
  }

  /// The 1.36 mapping keys are familiar names: a 1.35 record under `docker.io/library/x` is not found
  /// by 1.36 rules for pod image `x` (one extra verification, fail safe), and the reverse.
  @Test func mappingKeysFollowTheKubeletRelease() throws {
    let record = ImagePulledRecord(
      lastUpdatedTime: now, imageRef: "ref", credentialMapping: ["docker.io/library/nginx": ImagePullCredentials(nodePodsAccessible: true)])
    let records = MemoryRecords(["ref": .found(record, nil)])
    let request = VerifyRequest(image: "nginx:1.27", imageRef: "ref")
    let old = PullVerifier(policy: try CredentialVerificationPolicy(.alwaysVerify, rules: .normalizedNames))
    let new = PullVerifier(policy: try CredentialVerificationPolicy(.alwaysVerify, rules: .familiarNames))
    #expect(old.decide(request, records: records, now: now).reason == .nodePodsAccessible)
    #expect(new.decide(request, records: records, now: now).reason == .noCredentialsForImage)
  }
}

/// Records held in memory, for decisions that need no directory.
struct MemoryRecords: PullRecordLookup {
  var pulled: [String: RecordStore.Pulled]
  var intents: Set<String> = []
  /// true to stand for Pullwarden's store, false for the kubelet's.
  var keyedByImageName = false

  init(_ pulled: [String: RecordStore.Pulled], intents: Set<String> = []) {
    self.pulled = pulled
    self.intents = intents
  }

  func pulledRecord(imageRef: String) -> RecordStore.Pulled { pulled[imageRef] ?? .absent }
  func intent(image: String) -> RecordStore.Intent { intents.contains(image) ? .present : .absent }
}
