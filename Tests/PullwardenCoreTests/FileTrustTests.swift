#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PullwardenCore

/// How messages name the user running the tests, the owner of what they create.
private let me = FileTrust.userName(UInt32(geteuid()))

/// Trust follows ownership (`FileTrust`): what is refused, skipped or distrusted, and the message.
@Suite struct FileTrustTests {
  let directory = TemporaryDirectory()

  private func chmod(_ path: String, _ mode: mode_t) {
    #expect(Glibc.chmod(path, mode) == 0, "chmod \(path)")
  }

  @Test func theMessageNamesPathReasonModeAndOwner() {
    #expect(
      UntrustedFile(path: "/etc/pullwarden/config.yaml", owner: 0, mode: 0o666).description
        == "refusing /etc/pullwarden/config.yaml: writable by group or others (mode 0666, owner root)")
    let stranger: UInt32 = 4_000_000_000
    #expect(
      UntrustedFile(path: "/r/pulled", owner: stranger, mode: 0o1777).description
        == "refusing /r/pulled: owned by a user other than root or the user running Pullwarden and writable by group or others (mode 01777, owner uid 4000000000)")
    #expect(
      UntrustedFile(path: "/r/x", owner: stranger, mode: 0o600).description
        == "refusing /r/x: owned by a user other than root or the user running Pullwarden (mode 0600, owner uid 4000000000)")
  }

  /// Names come from /etc/passwd read directly (no NSS in the static build): the same as the password
  /// database gives for local users.
  @Test func ownersAreNamedAsThePasswordDatabaseNamesThem() {
    for uid: uid_t in [0, geteuid(), 65534] {
      guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { continue }
      #expect(FileTrust.userName(UInt32(uid)) == String(cString: name))
    }
    #expect(FileTrust.userName(4_000_000_000) == "uid 4000000000")
  }

  @Test func filesAreCheckedOnTheOpenDescriptor() throws {
    let path = directory.write("config.yaml", "x", mode: 0o644)
    #expect(try FileIO.readFile(path, limit: 10, trusted: true) == Array("x".utf8))
    for mode: mode_t in [0o664, 0o646, 0o666, 0o660 | 0o002] {
      chmod(path, mode)
      #expect(throws: UntrustedFile(path: path, owner: UInt32(geteuid()), mode: UInt32(mode))) {
        _ = try FileIO.readFile(path, limit: 10, trusted: true)
      }
      // Unchecked reads (caches that check for themselves) are unchanged.
      #expect(try FileIO.readFile(path, limit: 10) == Array("x".utf8))
    }
    chmod(path, 0o400)
    #expect(try FileIO.readFile(path, limit: 10, trusted: true) == Array("x".utf8))
  }

  @Test func directoriesAreCheckedOnTheOpenDescriptor() throws {
    directory.write("secrets/a.yaml", "")
    let secrets = directory.path + "/secrets"
    #expect(try FileIO.directoryEntries(secrets, trusted: true) == ["a.yaml"])
    chmod(secrets, 0o775)
    #expect(throws: UntrustedFile(path: secrets, owner: UInt32(geteuid()), mode: 0o775)) {
      _ = try FileIO.directoryEntries(secrets, trusted: true)
    }
  }

  @Test func configFileMustBeTrusted() {
    let path = directory.write("config.yaml", "sources: [{name: n, type: dockerConfig, matchImages: [a.io], path: d.json}]\n")
    chmod(path, 0o666)
    expectError(.config, containing: ["refusing \(path): writable by group or others (mode 0666, owner \(me)) (config file)"]) {
      _ = try PullwardenConfig.load(path: path)
    }
    chmod(path, 0o644)
    #expect(throws: Never.self) { _ = try PullwardenConfig.load(path: path) }
  }

  @Test func kubeconfigMustBeTrusted() {
    let path = directory.write("kubeconfig", "clusters: []\ncontexts: []\n")
    chmod(path, 0o606)
    expectError(.source, containing: ["refusing \(path): writable by group or others (mode 0606, owner \(me)) (source \"api\")"]) {
      _ = try Kubeconfig.cluster(path: path, context: "c", source: "api")
    }
    chmod(path, 0o600)
    expectError(.source, containing: ["no context named \"c\""]) {
      _ = try Kubeconfig.cluster(path: path, context: "c", source: "api")
    }
  }

  // MARK: Records directory

  @Test func aFileWhereTheRecordsDirectoryBelongsIsLeftToTheWriterToReport() {
    let path = directory.write("records", "")
    #expect(throws: Never.self) { try RecordStore(directory: path).checkUsableForProvide() }
  }

  @Test func recordsDirectoryAndEveryDirectoryInItMustBeTrusted() throws {
    let records = directory.path + "/records"
    let store = RecordStore(directory: records)
    #expect(throws: Never.self) { try store.checkTrust() }  // not there yet: provide creates it 0700
    try store.recordIntent(image: "r.io/app")
    #expect(throws: Never.self) { try store.checkUsableForProvide() }
    for sub in ["", "/pulling", "/pullwarden-expiry", "/pullwarden-index", "/anything-else"] {
      _ = system("mkdir -p '\(records + sub)'")
      chmod(records + sub, 0o777)
      expectError(.records, containing: ["refusing \(records + sub): writable by group or others (mode 0777, owner \(me)) (records directory)"]) {
        try store.checkUsableForProvide()
      }
      expectError(.records, containing: ["refusing \(records + sub)"]) { try store.checkLayout() }
      chmod(records + sub, 0o755)
      #expect(throws: Never.self) { try store.checkLayout() }
    }
  }

  /// A record, companion or intent file others could write is no evidence: unreadable, so the image
  /// must be re-verified (never "may use", never "preloaded"), and the next update replaces it.
  @Test func recordFilesOthersCouldWriteAreUnreadable() throws {
    let store = RecordStore(directory: directory.path + "/records")
    let credential = SuppliedCredential(key: RegistryKey(normalized: "r.io"), credential: RegistryCredential(username: "u", password: "p"), origin: .node, sourceName: "n")
    let now = Timestamp(secondsSinceEpoch: 1_735_084_800)
    try PullRecorder(directory: store.directory).record([credential], image: "r.io/app", validFor: .hours(1), now: now)
    let name = RecordStore.fileName(forKey: "r.io/app")
    guard case .found(_, let companion?) = store.pulledRecord(imageRef: "r.io/app") else {
      Issue.record("no record with a companion")
      return
    }
    #expect(!companion.images.isEmpty)

    chmod(store.expiryDirectory + "/" + name, 0o666)
    guard case .found(_, let distrusted?) = store.pulledRecord(imageRef: "r.io/app") else {
      Issue.record("the record itself is still trusted")
      return
    }
    #expect(distrusted.images.isEmpty, "an untrusted companion reads as no expiry at all: every credential expired")

    chmod(store.pulledDirectory + "/" + name, 0o606)
    guard case .unreadable(let reason) = store.pulledRecord(imageRef: "r.io/app") else {
      Issue.record("a record others can write was trusted")
      return
    }
    #expect(reason.contains("refusing \(store.pulledDirectory)/\(name): writable by group or others (mode 0606"))

    let verifier = PullVerifier(policy: try CredentialVerificationPolicy(.alwaysVerify))
    let reader = RecordReader(store: store, remember: false)
    let decision = verifier.decide(VerifyRequest(image: "r.io/app:v1"), records: reader, now: now)
    #expect(decision.mustPull && decision.reason == .recordUnreadable, "\(decision)")

    let warnings = WarningLog()
    try PullRecorder(directory: store.directory).record([credential], image: "r.io/app", validFor: .hours(1), now: now, diagnostics: warnings.diagnostics)
    #expect(warnings.all.contains { $0.contains("replacing unreadable pull record: refusing") }, "\(warnings.all)")
    guard case .found = store.pulledRecord(imageRef: "r.io/app") else {
      Issue.record("the record was not replaced")
      return
    }

    let intent = directory.write("records/pulling/" + RecordStore.fileName(forKey: "r.io/other"), #"{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1beta1","image":"r.io/other"}"#)
    #expect(store.intent(image: "r.io/other") == .present)
    chmod(intent, 0o666)
    guard case .unreadable = store.intent(image: "r.io/other") else {
      Issue.record("an intent others can write was trusted")
      return
    }
  }

  // MARK: The kubelet's directory

  @Test func theKubeletsImageManagerIsRefusedAsPullwardensRecordsDirectory() throws {
    for path in ["/var/lib/kubelet/image_manager", "/var/lib/kubelet/image_manager/", "image_manager", "./x/image_manager//"] {
      #expect(RecordStore.looksLikeKubeletDirectory(path: path), "\(path)")
    }
    for path in ["/var/lib/pullwarden", "/var/lib/image_manager-copy", "/image_manager/pullwarden", "/"] {
      #expect(!RecordStore.looksLikeKubeletDirectory(path: path), "\(path)")
    }
    expectError(.config, containing: ["\"recordsDir\" names the kubelet's image_manager directory", "/etc/pullwarden/config.yaml:1:", "recordsDir)"]) {
      _ = try PullwardenConfig.parse(
        "recordsDir: /var/lib/kubelet/image_manager\nsources: [{name: n, type: dockerConfig, matchImages: [a.io], path: d.json}]\n".bytes,
        path: "/etc/pullwarden/config.yaml")
    }

    let root = KubeletTestdata.install(in: directory)
    _ = system("mkdir -p '\(root)/pulling'")
    expectError(.records, containing: ["recordsDir \(root) is the kubelet's image_manager directory"]) {
      try RecordStore(directory: root).checkUsableForProvide()
    }
    let renamed = directory.path + "/copy"
    #expect(rename(root, renamed) == 0)
    expectError(.records, containing: ["looks like the kubelet's image_manager directory (it has pulled/ and pulling/ but no pullwarden-expiry/)"]) {
      try RecordStore(directory: renamed).checkUsableForProvide()
    }
    _ = system("mkdir '\(renamed)/pullwarden-expiry'")
    #expect(throws: Never.self) { try RecordStore(directory: renamed).checkUsableForProvide() }
  }

  // MARK: imageRef against Pullwarden's store

  @Test func pullwardensStoreIsAskedByImageNameEvenWithAnImageRef() throws {
    let now = Timestamp(secondsSinceEpoch: 1_735_084_800)
    let secret = ImagePullSecret(uid: "u", namespace: "team", name: "pull", credentialHash: "hash")
    let record = ImagePulledRecord(
      lastUpdatedTime: now, imageRef: "docker.io/team/app",
      credentialMapping: ["docker.io/team/app": ImagePullCredentials(kubernetesSecrets: [secret])])
    var records = MemoryRecords(["docker.io/team/app": .found(record, nil)])
    records.keyedByImageName = true
    let verifier = PullVerifier(policy: try CredentialVerificationPolicy(.neverVerifyPreloadedImages))
    let stranger = verifier.decide(VerifyRequest(image: "team/app:v1", imageRef: "sha256:1234"), records: records, now: now)
    #expect(stranger.mustPull && stranger.reason == .noMatchingCredentials, "\(stranger)")
    let holder = verifier.decide(VerifyRequest(image: "team/app:v1", imageRef: "sha256:1234", podSecrets: [secret]), records: records, now: now)
    #expect(!holder.mustPull && holder.reason == .secretHashMatched, "\(holder)")
    #expect(holder.recordUpdate == nil)
    #expect(verifier.decide(VerifyRequest(image: "team/app:v1", imageRef: ""), records: records, now: now).reason == .imageRefEmpty)
    // The kubelet's layout is still asked by ID.
    records.keyedByImageName = false
    #expect(verifier.decide(VerifyRequest(image: "team/app:v1", imageRef: "sha256:1234"), records: records, now: now).reason == .preloadedImage)
  }
}

/// The static build runs a sibling only if it is dynamically linked (`DynamicSibling`): a static one
/// in its place would hand the call on to itself.
@Suite struct DynamicSiblingTests {
  private func interpreter(_ path: String) -> Bool {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    defer { close(descriptor) }
    return descriptor >= 0 && DynamicSibling.hasProgramInterpreter(descriptor)
  }

  @Test func onlyDynamicallyLinkedExecutablesHaveAnInterpreter() {
    #expect(interpreter("/bin/sh"))
    #expect(!interpreter("/sbin/ldconfig"))  // statically linked on Debian
    #expect(!interpreter("/etc/passwd"))
    #expect(!interpreter("/dev/null"))
  }
}
