#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PullwardenCore

private let now = Timestamp(secondsSinceEpoch: 1_700_000_000)
private let image = "registry.example.com/team/app"

private func handedOut(
  _ username: String, secret: (String, String, String)? = nil, account: (String, String, String)? = nil, expiresAt: Timestamp? = nil
) -> SuppliedCredential {
  SuppliedCredential(
    key: RegistryKey(normalizing: "registry.example.com")!, credential: RegistryCredential(username: username, password: username + "-pw"),
    origin: CredentialOrigin(
      secret: secret.map { SecretCoordinates(namespace: $0.0, name: $0.1, uid: $0.2) },
      serviceAccount: account.map { ServiceAccountCoordinates(namespace: $0.0, name: $0.1, uid: $0.2) }),
    expiresAt: expiresAt, sourceName: "test")
}

private func mode(_ path: String) -> mode_t {
  var info = stat()
  return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
}

/// The record store on real directories: layout, permissions, merging across runs, expiry, and
/// files that must never be trusted.
@Suite struct RecordStoreTests {
  let directory = TemporaryDirectory()
  var recordsPath: String { directory.path + "/records" }
  var recorder: PullRecorder { PullRecorder(directory: recordsPath) }
  var store: RecordStore { recorder.store }
  var name: String { RecordStore.fileName(forKey: image) }

  private func found(_ key: String = image) throws -> (ImagePulledRecord, CredentialExpiry?) {
    guard case .found(let record, let expiry) = store.pulledRecord(imageRef: key) else {
      Issue.record("no readable record for \(key)")
      throw PullwardenError(.records, "missing")
    }
    return (record, expiry)
  }

  @Test func firstRecordCreatesThePrivateLayoutAndTheKubeletBytes() throws {
    try recorder.record([handedOut("node")], image: image, validFor: .minutes(5), now: now)
    #expect(mode(recordsPath) == 0o700)
    for sub in ["pulled", "pullwarden-expiry", "pullwarden-locks"] { #expect(mode(recordsPath + "/" + sub) == 0o700, "\(sub)") }
    #expect(mode(recordsPath + "/pulled/" + name) == 0o600)
    #expect(mode(recordsPath + "/pullwarden-expiry/" + name) == 0o600)
    #expect(
      String.contents(of: recordsPath + "/pulled/" + name)
        == #"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2023-11-14T22:13:20Z","imageRef":"registry.example.com/team/app","credentialMapping":{"registry.example.com/team/app":{"nodePodsAccessible":true}}}"#
          + "\n")
    #expect(
      String.contents(of: recordsPath + "/pullwarden-expiry/" + name)
        == #"{"kind":"CredentialExpiry","apiVersion":"pullwarden.dev/v1alpha1","lastUpdatedTime":"2023-11-14T22:13:20Z","imageRef":"registry.example.com/team/app","credentialMapping":{"registry.example.com/team/app":{"nodePodsAccessibleExpiresAt":"2023-11-14T22:18:20Z"}}}"#
          + "\n")
    // Nothing else: no temporary files, no plaintext anywhere.
    #expect(try FileIO.directoryEntries(recordsPath + "/pulled") == [name])
    for sub in ["pulled", "pullwarden-expiry"] {
      #expect(!String.contents(of: recordsPath + "/\(sub)/" + name).contains("node-pw"))
    }
  }

  @Test func secretsAreHashedMergedAndSortedAcrossRuns() throws {
    try recorder.record([handedOut("b", secret: ("team", "b-pull", "uid-b"))], image: image, validFor: .minutes(5), now: now)
    try recorder.record([handedOut("a", secret: ("team", "a-pull", "uid-a"))], image: image, validFor: .minutes(5), now: now.adding(.seconds(10)))
    let (record, expiry) = try found()
    let secrets = try #require(record.credentialMapping[image]?.kubernetesSecrets)
    #expect(secrets.map(\.name) == ["a-pull", "b-pull"])
    #expect(secrets[0].credentialHash == CredentialHash.of(RegistryCredential(username: "a", password: "a-pw")))
    #expect(record.lastUpdatedTime == now.adding(.seconds(10)))
    #expect(expiry?.images[image]?.secrets[secrets[1]] == now.adding(.minutes(5)))
    #expect(expiry?.images[image]?.secrets[secrets[0]] == now.adding(.seconds(310)))
  }

  /// Handing out the same credential again extends its expiry but leaves the record (and its
  /// lastUpdatedTime) alone, as the kubelet leaves an unchanged record alone.
  @Test func repeatedHandOutExtendsExpiryOnly() throws {
    let credential = handedOut("a", secret: ("team", "a-pull", "uid-a"))
    try recorder.record([credential], image: image, validFor: .minutes(5), now: now)
    let before = String.contents(of: recordsPath + "/pulled/" + name)
    let result = try recorder.record([credential], image: image, validFor: .minutes(5), now: now.adding(.hours(1)))
    #expect(result == RecordStore.UpdateResult(recordWritten: false, expiryWritten: true))
    #expect(String.contents(of: recordsPath + "/pulled/" + name) == before)
    let (_, expiry) = try found()
    #expect(expiry?.lastUpdatedTime == now.adding(.hours(1)))
    #expect(expiry?.latestExpiry == now.adding(.hours(1)).adding(.minutes(5)))
  }

  /// Expiry is the earlier of the token's own expiry and the end of the cache duration.
  @Test func expiryIsTheEarlierOfTokenAndCacheDuration() throws {
    try recorder.record(
      [handedOut("sa", account: ("apps", "builder", "sa-uid"), expiresAt: now.adding(.minutes(2)))], image: image, validFor: .minutes(5), now: now)
    let (record, expiry) = try found()
    let account = ImagePullServiceAccount(uid: "sa-uid", namespace: "apps", name: "builder")
    #expect(record.credentialMapping[image] == ImagePullCredentials(kubernetesServiceAccounts: [account]))
    #expect(expiry?.images[image]?.serviceAccounts[account] == now.adding(.minutes(2)))
  }

  /// A credential from a Secret fetched for a service account is recorded under both.
  @Test func secretAndServiceAccountOriginRecordsBoth() throws {
    try recorder.record(
      [handedOut("x", secret: ("apps", "pull", "s-uid"), account: ("apps", "builder", "sa-uid"))], image: image, validFor: .minutes(5), now: now)
    let credentials = try #require(try found().0.credentialMapping[image])
    #expect(credentials.kubernetesSecrets.map(\.uid) == ["s-uid"])
    #expect(credentials.kubernetesServiceAccounts.map(\.uid) == ["sa-uid"])
  }

  /// Node-wide credentials make the image accessible to every pod, and nothing narrows that again.
  @Test func nodeWideAccessIsAbsorbing() throws {
    try recorder.record([handedOut("a", secret: ("team", "a-pull", "uid-a"))], image: image, validFor: .minutes(5), now: now)
    try recorder.record([handedOut("a", secret: ("team", "a-pull", "uid-a")), handedOut("node")], image: image, validFor: .minutes(5), now: now)
    try recorder.record([handedOut("b", secret: ("team", "b-pull", "uid-b"))], image: image, validFor: .minutes(5), now: now)
    let (record, expiry) = try found()
    #expect(record.credentialMapping[image] == ImagePullCredentials(nodePodsAccessible: true))
    #expect(expiry?.images[image]?.secrets.isEmpty == true)
    #expect(expiry?.images[image]?.nodePodsAccessible == now.adding(.minutes(5)))
  }

  @Test(arguments: [
    ("not json at all", "invalid JSON"),
    (#"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":"registry.example.com/team/app","credentialMapping":{"#, "invalid JSON"),
    (#"{"kind":"Secret","apiVersion":"v1"}"#, "is not \"ImagePulledRecord\""),
  ])
  func untrustedRecordsAreReportedAndReplaced(content: String, fragment: String) throws {
    directory.write("records/pulled/" + name, content, mode: 0o600)
    guard case .unreadable(let reason) = store.pulledRecord(imageRef: image) else {
      Issue.record("an untrusted file was read as a record")
      return
    }
    #expect(reason.contains(fragment))
    let warnings = WarningLog()
    try recorder.record([handedOut("a", secret: ("team", "a-pull", "uid-a"))], image: image, validFor: .minutes(5), now: now, diagnostics: warnings.diagnostics)
    #expect(warnings.all.count == 1)
    #expect(warnings.all.first?.contains("replacing unreadable pull record") == true)
    #expect(try found().0.credentialMapping[image]?.kubernetesSecrets.count == 1)
  }

  /// A file that decodes but names another imageRef (a renamed file, a hash collision) is not the
  /// record: the kubelet treats it as absent, and the writer replaces it.
  @Test func mismatchedImageRefIsNeverTrusted() throws {
    directory.write("records/pulled/" + name, KubeletTestdata.pulled["testimageref"]!, mode: 0o600)
    guard case .mismatched(let other) = store.pulledRecord(imageRef: image) else {
      Issue.record("a record for another imageRef was trusted")
      return
    }
    #expect(other == "testimageref")
    let warnings = WarningLog()
    try recorder.record([handedOut("node")], image: image, validFor: .minutes(5), now: now, diagnostics: warnings.diagnostics)
    #expect(warnings.all.first?.contains("names imageRef \"testimageref\"") == true)
    #expect(try found().0.imageRef == image)
  }

  @Test func symbolicLinksAreNotFollowed() throws {
    let target = directory.write("elsewhere.json", KubeletTestdata.pulled["testimageref"]!)
    _ = system("mkdir -p '\(recordsPath)/pulled' && ln -s '\(target)' '\(recordsPath)/pulled/\(name)'")
    guard case .unreadable(let reason) = store.pulledRecord(imageRef: image) else {
      Issue.record("a symbolic link was followed")
      return
    }
    #expect(reason.contains("symbolic link"))
    try recorder.record([handedOut("node")], image: image, validFor: .minutes(5), now: now)
    #expect(String.contents(of: target) == KubeletTestdata.pulled["testimageref"]!)
    #expect(try FileIO.fileType(recordsPath + "/pulled/" + name, followLinks: false) == .regular)
  }

  /// An unreadable companion never extends trust: its record's credentials count as expired until a
  /// writer replaces it.
  @Test func unreadableCompanionMeansExpired() throws {
    try recorder.record([handedOut("a", secret: ("team", "a-pull", "uid-a"))], image: image, validFor: .minutes(5), now: now)
    directory.write("records/pullwarden-expiry/" + name, "{broken", mode: 0o600)
    let warnings = WarningLog()
    guard case .found(let record, let expiry) = store.pulledRecord(imageRef: image, diagnostics: warnings.diagnostics) else {
      Issue.record("record not found")
      return
    }
    #expect(warnings.all.first?.contains("counts as expired") == true)
    let secret = record.credentialMapping[image]!.kubernetesSecrets[0]
    #expect(expiry.state(of: secret, for: image) == .unknown)
    try recorder.record([handedOut("a", secret: ("team", "a-pull", "uid-a"))], image: image, validFor: .minutes(5), now: now)
    #expect(try found().1?.images[image]?.secrets[secret] == now.adding(.minutes(5)))
  }

  /// Pullwarden writes v1beta1 and migrates an older file when it rewrites it.
  @Test func alphaRecordsAreMigratedOnWrite() throws {
    let alpha = #"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":"2024-10-21T12:26:40Z","imageRef":"registry.example.com/team/app","credentialMapping":{"registry.example.com/team/app":{"nodePodsAccessible":true}}}"#
    directory.write("records/pulled/" + name, alpha + "\n", mode: 0o600)
    try recorder.record([handedOut("node")], image: image, validFor: .minutes(5), now: now)
    #expect(String.contents(of: recordsPath + "/pulled/" + name) == alpha.replacing("v1alpha1", with: "v1beta1") + "\n")
  }

  @Test func writeFailuresAreRecordsErrors() {
    directory.write("records", "a file where the directory should be")
    expectError(.records, containing: ["cannot", directory.path + "/records"]) {
      try recorder.record([handedOut("node")], image: image, validFor: .minutes(5), now: now)
    }
  }

  @Test func intentsAreReadAsTheKubeletReadsThem() {
    let root = KubeletTestdata.install(in: directory, intent: true)
    let kubelet = RecordStore(directory: root)
    #expect(kubelet.intent(image: "docker.io/testing/test:latest") == .present)
    #expect(kubelet.intent(image: "docker.io/testing/test:other") == .absent)
    directory.write("image_manager/pulling/" + RecordStore.fileName(forKey: "x:1"), #"{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1beta1","image":"y:1"}"#)
    #expect(kubelet.intent(image: "x:1") == .absent)
    directory.write("image_manager/pulling/" + RecordStore.fileName(forKey: "z:1"), "garbage")
    guard case .unreadable = kubelet.intent(image: "z:1") else {
      Issue.record("a broken intent was not reported")
      return
    }
  }

  @Test func layoutCheckRefusesWhatIsNotARecordsDirectory() {
    expectError(.records, containing: ["does not exist", directory.path + "/nope"]) {
      try RecordStore(directory: directory.path + "/nope").checkLayout()
    }
    expectError(.records, containing: ["neither pulled/ nor pulling/"]) { try RecordStore(directory: directory.path).checkLayout() }
    let root = KubeletTestdata.install(in: directory)
    #expect(throws: Never.self) { try RecordStore(directory: root).checkLayout() }
  }

  @Test func listingTrustsOnlyWellFormedMatchingFiles() throws {
    let root = KubeletTestdata.install(in: directory)
    directory.write("image_manager/pulled/sha256-0000", KubeletTestdata.pulled["testimageref"]!)
    directory.write("image_manager/pulled/sha256-1111", "{")
    directory.write("image_manager/pulled/.sha256-2222.1.tmp", "{")
    directory.write("image_manager/pulled/notarecord", "{")
    let listed = try RecordStore(directory: root).listPulled()
    #expect(listed.count == 7)
    var found = 0, mismatched = 0, unreadable = 0
    for item in listed {
      switch item.content {
      case .found: found += 1
      case .mismatched: mismatched += 1
      case .unreadable: unreadable += 1
      case .absent: break
      }
    }
    #expect([found, mismatched, unreadable] == [5, 1, 1])
  }

  @Test func anExclusiveLockKeepsOthersOutUntilReleased() throws {
    _ = system("mkdir -p '\(directory.path)/locks'")
    let path = directory.path + "/locks/a"
    do {
      let held = try FileLock.acquire(path, mode: .exclusive, timeout: .seconds(1))
      withExtendedLifetime(held) {
        #expect(held != nil)
        #expect(throws: FileLock.Failure.self) { _ = try FileLock.acquire(path, mode: .shared, timeout: .zero) }
      }
    }
    // Not .zero: a process another test spawns at this moment holds a copy of every descriptor, the
    // lock's too, from its fork until its exec closes it, so the lock may outlive `held` by that much.
    #expect(try FileLock.acquire(path, mode: .shared, timeout: .seconds(30)) != nil)
    // Readers never create lock files.
    #expect(try FileLock.acquire(directory.path + "/locks/b", mode: .shared, timeout: .zero) == nil)
    #expect(try FileIO.fileType(directory.path + "/locks/b") == nil)
  }

  /// A FIFO or device planted where a lock file belongs is refused at once, for writers and readers.
  @Test(arguments: [FileLock.Mode.exclusive, .shared])
  func aLockPathThatIsNotARegularFileIsRefused(mode: FileLock.Mode) throws {
    _ = system("mkdir -p '\(directory.path)/locks'")
    let path = directory.path + "/locks/fifo"
    #expect(mkfifo(path, 0o600) == 0)
    #expect(throws: FileLock.Failure.self) { _ = try FileLock.acquire(path, mode: mode, timeout: .zero) }
    // A character device (the null device's numbers) needs root to make; CI runs as root.
    if getuid() == 0 {
      #expect(mknod(directory.path + "/locks/device", S_IFCHR | 0o600, dev_t((1 << 8) | 3)) == 0)
      #expect(throws: FileLock.Failure.self) { _ = try FileLock.acquire(directory.path + "/locks/device", mode: mode, timeout: .zero) }
    }
  }
}
