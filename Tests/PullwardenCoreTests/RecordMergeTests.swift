import Testing

@testable import PullwardenCore

private func secret(_ uid: String, _ namespace: String, _ name: String, _ hash: String = "") -> ImagePullSecret {
  ImagePullSecret(uid: uid, namespace: namespace, name: name, credentialHash: hash)
}

private func account(_ uid: String, _ namespace: String, _ name: String) -> ImagePullServiceAccount {
  ImagePullServiceAccount(uid: uid, namespace: namespace, name: name)
}

private let then = Timestamp(secondsSinceEpoch: 1_729_513_600)
private let now = Timestamp(secondsSinceEpoch: 1_735_084_800)

/// The kubelet's `Test_pulledRecordMergeNewCreds` (spec §9.3), every row.
@Suite struct RecordMergeTests {
  static let base = ImagePulledRecord(
    lastUpdatedTime: then, imageRef: "testImageRef",
    credentialMapping: [
      "test-image1": ImagePullCredentials(kubernetesSecrets: [secret("uid1", "namespace1", "name1", "hash1")]),
      "test-image2": ImagePullCredentials(kubernetesSecrets: [
        secret("uid1", "namespace1", "name1", "hash1"), secret("uid2", "namespace2", "name2", "hash2"),
      ]),
      "test-image-with-sa": ImagePullCredentials(kubernetesServiceAccounts: [account("sa-uid1", "default", "sa1")]),
      "test-image-mixed": ImagePullCredentials(
        kubernetesSecrets: [secret("secret-uid1", "kube-system", "secret1", "secret-hash1")],
        kubernetesServiceAccounts: [account("sa-uid2", "kube-system", "sa2")]),
      "test-nodewide": ImagePullCredentials(nodePodsAccessible: true),
    ])

  struct Row: Sendable, CustomTestStringConvertible {
    var name: String
    var image: String
    var credentials: ImagePullCredentials?
    var expected: ImagePullCredentials?
    var updated: Bool
    var testDescription: String { name }
  }

  static let rows: [Row] = [
    Row(
      name: "new image", image: "new-image",
      credentials: ImagePullCredentials(kubernetesSecrets: [secret("newuid", "newnamespace", "newname", "newhash")]),
      expected: ImagePullCredentials(kubernetesSecrets: [secret("newuid", "newnamespace", "newname", "newhash")]), updated: true),
    Row(
      name: "merge with existing image secrets", image: "test-image1",
      credentials: ImagePullCredentials(kubernetesSecrets: [secret("newuid", "newnamespace", "newname")]),
      expected: ImagePullCredentials(kubernetesSecrets: [
        secret("uid1", "namespace1", "name1", "hash1"), secret("newuid", "newnamespace", "newname"),
      ]), updated: true),
    Row(
      name: "merge with existing image secrets, sorted", image: "test-image2",
      credentials: ImagePullCredentials(kubernetesSecrets: [secret("newuid", "namespace1", "newname", "newhash")]),
      expected: ImagePullCredentials(kubernetesSecrets: [
        secret("uid1", "namespace1", "name1", "hash1"), secret("newuid", "namespace1", "newname", "newhash"),
        secret("uid2", "namespace2", "name2", "hash2"),
      ]), updated: true),
    Row(
      name: "node-accessible overrides secrets", image: "test-image2", credentials: ImagePullCredentials(nodePodsAccessible: true),
      expected: ImagePullCredentials(nodePodsAccessible: true), updated: true),
    Row(
      name: "same coordinates, new hash replaces it", image: "test-image2",
      credentials: ImagePullCredentials(kubernetesSecrets: [secret("uid2", "namespace2", "name2", "newhash")]),
      expected: ImagePullCredentials(kubernetesSecrets: [
        secret("uid1", "namespace1", "name1", "hash1"), secret("uid2", "namespace2", "name2", "newhash"),
      ]), updated: true),
    Row(
      name: "same hash, new coordinates are appended", image: "test-image2",
      credentials: ImagePullCredentials(kubernetesSecrets: [secret("uid3", "namespace2", "name3", "hash2")]),
      expected: ImagePullCredentials(kubernetesSecrets: [
        secret("uid1", "namespace1", "name1", "hash1"), secret("uid2", "namespace2", "name2", "hash2"),
        secret("uid3", "namespace2", "name3", "hash2"),
      ]), updated: true),
    Row(
      name: "new image with a service account", image: "new-sa-image",
      credentials: ImagePullCredentials(kubernetesServiceAccounts: [account("new-sa-uid", "default", "new-sa")]),
      expected: ImagePullCredentials(kubernetesServiceAccounts: [account("new-sa-uid", "default", "new-sa")]), updated: true),
    Row(
      name: "merge service accounts", image: "test-image-with-sa",
      credentials: ImagePullCredentials(kubernetesServiceAccounts: [account("new-sa-uid", "kube-system", "new-sa")]),
      expected: ImagePullCredentials(kubernetesServiceAccounts: [
        account("sa-uid1", "default", "sa1"), account("new-sa-uid", "kube-system", "new-sa"),
      ]), updated: true),
    Row(
      name: "identical service account", image: "test-image-with-sa",
      credentials: ImagePullCredentials(kubernetesServiceAccounts: [account("sa-uid1", "default", "sa1")]),
      expected: ImagePullCredentials(kubernetesServiceAccounts: [account("sa-uid1", "default", "sa1")]), updated: false),
    Row(
      name: "service account onto secrets", image: "test-image2",
      credentials: ImagePullCredentials(kubernetesServiceAccounts: [account("new-sa-uid", "default", "new-sa")]),
      expected: ImagePullCredentials(
        kubernetesSecrets: [secret("uid1", "namespace1", "name1", "hash1"), secret("uid2", "namespace2", "name2", "hash2")],
        kubernetesServiceAccounts: [account("new-sa-uid", "default", "new-sa")]), updated: true),
    Row(
      name: "secret onto service accounts", image: "test-image-with-sa",
      credentials: ImagePullCredentials(kubernetesSecrets: [secret("new-secret-uid", "default", "new-secret")]),
      expected: ImagePullCredentials(
        kubernetesSecrets: [secret("new-secret-uid", "default", "new-secret")],
        kubernetesServiceAccounts: [account("sa-uid1", "default", "sa1")]), updated: true),
    Row(
      name: "node-accessible overrides mixed", image: "test-image-mixed", credentials: ImagePullCredentials(nodePodsAccessible: true),
      expected: ImagePullCredentials(nodePodsAccessible: true), updated: true),
    Row(
      name: "node-wide absorbs a secret", image: "test-nodewide",
      credentials: ImagePullCredentials(kubernetesSecrets: [secret("any", "any", "any", "any")]),
      expected: ImagePullCredentials(nodePodsAccessible: true), updated: false),
    Row(
      name: "node-wide absorbs a service account", image: "test-nodewide",
      credentials: ImagePullCredentials(kubernetesServiceAccounts: [account("any", "any", "any")]),
      expected: ImagePullCredentials(nodePodsAccessible: true), updated: false),
    Row(
      name: "nil credentials", image: "test-image1", credentials: nil,
      expected: ImagePullCredentials(kubernetesSecrets: [secret("uid1", "namespace1", "name1", "hash1")]), updated: false),
    Row(
      name: "empty credentials", image: "test-image1", credentials: ImagePullCredentials(),
      expected: ImagePullCredentials(kubernetesSecrets: [secret("uid1", "namespace1", "name1", "hash1")]), updated: false),
    Row(
      name: "a new key keeps the input order", image: "new-sorted-image",
      credentials: ImagePullCredentials(kubernetesSecrets: [secret("z", "z", "z", "z"), secret("a", "a", "a", "a"), secret("m", "m", "m", "m")]),
      expected: ImagePullCredentials(kubernetesSecrets: [secret("z", "z", "z", "z"), secret("a", "a", "a", "a"), secret("m", "m", "m", "m")]),
      updated: true),
    Row(
      name: "a new key keeps the input order of service accounts", image: "new-sorted-sa-image",
      credentials: ImagePullCredentials(kubernetesServiceAccounts: [account("z", "z", "z"), account("a", "a", "a"), account("m", "m", "m")]),
      expected: ImagePullCredentials(kubernetesServiceAccounts: [account("z", "z", "z"), account("a", "a", "a"), account("m", "m", "m")]),
      updated: true),
    Row(
      name: "same service account name with a new uid, sorted by uid", image: "test-image-with-sa",
      credentials: ImagePullCredentials(kubernetesServiceAccounts: [account("different-uid", "default", "sa1")]),
      expected: ImagePullCredentials(kubernetesServiceAccounts: [account("different-uid", "default", "sa1"), account("sa-uid1", "default", "sa1")]),
      updated: true),
  ]

  @Test(arguments: rows)
  func pulledRecordMergeNewCreds(_ row: Row) {
    var record = Self.base
    let changed = record.merge(row.credentials, forImage: row.image, now: now)
    #expect(changed == row.updated)
    #expect(record.credentialMapping[row.image] == row.expected)
    #expect(record.lastUpdatedTime == (row.updated ? now : then))
    // Other images are never touched.
    for (key, value) in Self.base.credentialMapping where key != row.image {
      #expect(record.credentialMapping[key] == value)
    }
  }

  /// `Test_mergePullServiceAccounts`.
  @Test func mergePullServiceAccounts() {
    #expect(ImagePulledRecord.mergePullServiceAccounts([], []) == nil)
    let one = [account("sa1", "default", "a-sa")]
    #expect(ImagePulledRecord.mergePullServiceAccounts(one, one) == nil)
    #expect(ImagePulledRecord.mergePullServiceAccounts(one, [account("sa2", "default", "a-sa")]) == [account("sa1", "default", "a-sa"), account("sa2", "default", "a-sa")])
    #expect(
      ImagePulledRecord.mergePullServiceAccounts(
        [account("sa2", "kube-system", "z-sa")], [account("sa1", "default", "a-sa"), account("sa3", "kube-system", "a-sa")])
        == [account("sa1", "default", "a-sa"), account("sa3", "kube-system", "a-sa"), account("sa2", "kube-system", "z-sa")])
  }

  /// `RecordImagePulled` (spec §9.4) on the kubelet's testdata records.
  @Test func recordImagePulledOntoTheTestdata() throws {
    let existing = try ImagePulledRecord.decode(KubeletTestdata.pulled["testimageref"]!.bytes, name: "t")
    // A new record for a node-accessible pull.
    let created = try #require(
      ImagePulledRecord.recording(ImagePullCredentials(nodePodsAccessible: true), forImage: "repo.repo/test/test", imageRef: "testimageref", into: nil, now: now))
    #expect(created.credentialMapping == ["repo.repo/test/test": ImagePullCredentials(nodePodsAccessible: true)])
    #expect(created.lastUpdatedTime == now)
    // The same onto the existing record: both keys.
    let both = try #require(
      ImagePulledRecord.recording(ImagePullCredentials(nodePodsAccessible: true), forImage: "repo.repo/test/test", imageRef: "testimageref", into: existing, now: now))
    #expect(both.credentialMapping.keys.sorted() == ["docker.io/testing/test", "repo.repo/test/test"])
    // A new Secret is appended after the existing one (sorted: default < newns).
    let appended = try #require(
      ImagePulledRecord.recording(
        ImagePullCredentials(kubernetesSecrets: [secret("newuid", "newns", "newname", "newhash")]), forImage: "docker.io/testing/test",
        imageRef: "testimageref", into: existing, now: now))
    #expect(appended.credentialMapping["docker.io/testing/test"]?.kubernetesSecrets.map(\.name) == ["pull-secret", "newname"])
    // The existing Secret again: nothing changes, lastUpdatedTime is not bumped.
    #expect(
      ImagePulledRecord.recording(
        ImagePullCredentials(kubernetesSecrets: [secret("testsecretuid", "default", "pull-secret", "testsecrethash")]),
        forImage: "docker.io/testing/test", imageRef: "testimageref", into: existing, now: now) == nil)
    // A service account onto the Secret record: both lists; a second one sorted; a duplicate: no update.
    let withAccount = try #require(
      ImagePulledRecord.recording(
        ImagePullCredentials(kubernetesServiceAccounts: [account("sa-uid", "default", "test-sa")]), forImage: "docker.io/testing/test",
        imageRef: "testimageref", into: existing, now: now))
    #expect(withAccount.credentialMapping["docker.io/testing/test"]?.kubernetesSecrets.count == 1)
    let twoAccounts = try #require(
      ImagePulledRecord.recording(
        ImagePullCredentials(kubernetesServiceAccounts: [account("app-uid", "app-ns", "app-sa")]), forImage: "docker.io/testing/test",
        imageRef: "testimageref", into: withAccount, now: now))
    #expect(twoAccounts.credentialMapping["docker.io/testing/test"]?.kubernetesServiceAccounts.map(\.namespace) == ["app-ns", "default"])
    #expect(
      ImagePulledRecord.recording(
        ImagePullCredentials(kubernetesServiceAccounts: [account("app-uid", "app-ns", "app-sa")]), forImage: "docker.io/testing/test",
        imageRef: "testimageref", into: twoAccounts, now: now) == nil)
    // nil credentials create a record with no mapping ("pulled, credentials unknown").
    #expect(ImagePulledRecord.recording(nil, forImage: "x", imageRef: "r", into: nil, now: now)?.credentialMapping.isEmpty == true)
  }
}
