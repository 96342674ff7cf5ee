#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// The user `nobody`, who stands for a tenant with a shell on the node.
private let nobody: (uid: uid_t, gid: gid_t) = {
  guard let entry = getpwnam("nobody") else { return (65534, 65534) }
  return (entry.pointee.pw_uid, entry.pointee.pw_gid)
}()

/// Giving a file to another user needs root; the mode tests run for anyone.
private let runsAsRoot = geteuid() == 0

/// How messages name the user running the tests (and Pullwarden), the owner of what they create.
private let me: String = {
  guard let entry = getpwuid(geteuid()) else { return "uid \(geteuid())" }
  return String(cString: entry.pointee.pw_name)
}()

/// Step 7 §2 "Trust only what root could have written", through the real binary: a config, credential
/// file, Secret directory, records directory or record that someone other than root (or the user
/// running Pullwarden) could have written is refused, skipped or distrusted, never believed.
@Suite struct FileTrustEndToEndTests {
  let scratch: Scratch
  var records: String { scratch.path + "/records" }
  let image = "registry.example.com/team/app"

  init() throws {
    scratch = try Scratch()
    try scratch.write("docker.json", #"{"auths":{"registry.example.com":{"username":"node","password":"node-pw"}}}"#)
    try scratch.write(
      "config.yaml", "recordsDir: records\nsources: [{name: node, type: dockerConfig, matchImages: [registry.example.com], path: docker.json}]\n")
  }

  private func provide(_ config: String = "config.yaml") throws -> Pullwarden.Result {
    try Pullwarden.run(["provide", "--config", scratch.path + "/" + config], stdin: request(image: image))
  }

  private func verify(_ directory: String, policy: String, _ request: String) throws -> Pullwarden.Result {
    try Pullwarden.run(["verify", "--records-dir", directory, "--policy", policy], stdin: request)
  }

  private func chmod(_ path: String, _ mode: mode_t) {
    #expect(Glibc.chmod(path, mode) == 0, "chmod \(path)")
  }

  private func giveToNobody(_ path: String) {
    #expect(chown(path, nobody.uid, nobody.gid) == 0, "chown \(path)")
  }

  private func expectMustPull(_ result: Pullwarden.Result, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(result.status != 0, "\(context): \(result.stdout)", sourceLocation: sourceLocation)
    #expect(try jsonObject(result.stdout)["mustPull"] as? Bool == true, "\(context): \(result.stdout)", sourceLocation: sourceLocation)
  }

  // MARK: Records

  /// The issue's case: a record planted by `nobody` in a world-writable `pulled/` made
  /// `verify --policy AlwaysVerify` answer "may use". The directory is refused (exit 4, must pull).
  @Test(.enabled(if: runsAsRoot, "chown needs root"))
  func aRecordPlantedByNobodyInAWorldWritablePulledDirectoryIsRefused() throws {
    let kubelet = scratch.path + "/image_manager"
    let planted = try scratch.write("image_manager/pulled/sha256-" + sha256Hex("testimage-anonpull"), VerifyEndToEndTests.anonymousRecord)
    try FileManager.default.createDirectory(atPath: kubelet + "/pulling", withIntermediateDirectories: true)
    chmod(kubelet + "/pulled", 0o777)
    giveToNobody(planted)
    let pod = #"{"image":"docker.io/testing/test:latest","imageRef":"testimage-anonpull"}"#
    for policy in ["AlwaysVerify", "NeverVerifyPreloadedImages"] {
      let result = try verify(kubelet, policy: policy, pod)
      try expectMustPull(result, policy)
      #expect(result.status == 4, "\(policy)")
      #expect(
        result.stderr == "pullwarden: refusing \(kubelet)/pulled: writable by group or others (mode 0777, owner \(me)) (records directory)\n",
        "\(result.stderr)")
    }
  }

  /// In a directory that is root's, a record file someone else owns (or could write) is no evidence:
  /// never "may use", and never "preloaded" either; the pod must re-verify.
  @Test(.enabled(if: runsAsRoot, "chown needs root"))
  func aRecordFileOwnedByNobodyIsNotTrusted() throws {
    let kubelet = scratch.path + "/image_manager"
    let planted = try scratch.write("image_manager/pulled/sha256-" + sha256Hex("testimage-anonpull"), VerifyEndToEndTests.anonymousRecord)
    try FileManager.default.createDirectory(atPath: kubelet + "/pulling", withIntermediateDirectories: true)
    let pod = #"{"image":"docker.io/testing/test:latest","imageRef":"testimage-anonpull"}"#
    #expect(try verify(kubelet, policy: "AlwaysVerify", pod).status == 0, "the record is good while root's")
    giveToNobody(planted)
    for policy in ["AlwaysVerify", "NeverVerifyPreloadedImages"] {
      let result = try verify(kubelet, policy: policy, pod)
      try expectMustPull(result, policy)
      let answer = try jsonObject(result.stdout)
      #expect(answer["reason"] as? String == "recordUnreadable")
      #expect((answer["detail"] as? String)?.contains("owned by a user other than root or the user running Pullwarden (mode 0644, owner nobody)") == true, "\(answer)")
    }
  }

  @Test func aGroupWritableRecordFileIsNotTrusted() throws {
    let kubelet = scratch.path + "/image_manager"
    let planted = try scratch.write("image_manager/pulled/sha256-" + sha256Hex("testimage-anonpull"), VerifyEndToEndTests.anonymousRecord)
    chmod(planted, 0o664)
    let result = try verify(kubelet, policy: "AlwaysVerify", #"{"image":"docker.io/testing/test:latest","imageRef":"testimage-anonpull"}"#)
    try expectMustPull(result, "0664 record")
    #expect(try jsonObject(result.stdout)["reason"] as? String == "recordUnreadable")
  }

  /// Pullwarden's own store: a node-wide record and its companion handed to nobody stop counting, and
  /// the next provide replaces them with files of its own.
  @Test(.enabled(if: runsAsRoot, "chown needs root"))
  func recordsHandedToNobodyInPullwardensStoreAreReplacedNotBelieved() throws {
    #expect(try provide().status == 0)
    let name = "sha256-" + sha256Hex(image)
    let pod = #"{"image":"\#(image)"}"#
    #expect(try verify(records, policy: "AlwaysVerify", pod).status == 0, "node-wide credentials: every pod may use it")
    giveToNobody(records + "/pulled/" + name)
    giveToNobody(records + "/pullwarden-expiry/" + name)
    for policy in ["AlwaysVerify", "NeverVerifyPreloadedImages"] {
      try expectMustPull(try verify(records, policy: policy, pod), policy)
    }
    let again = try provide()
    #expect(again.status == 0)
    #expect(again.stderr.contains("pullwarden: warning: replacing unreadable pull record: refusing \(records)/pulled/\(name)"), "\(again.stderr)")
    let owner = try FileManager.default.attributesOfItem(atPath: records + "/pulled/" + name)[.ownerAccountID] as? Int
    #expect(owner == Int(geteuid()))
    #expect(try verify(records, policy: "AlwaysVerify", pod).status == 0)
  }

  @Test(arguments: ["", "/pulled", "/pulling", "/pullwarden-expiry", "/pullwarden-locks", "/pullwarden-index"])
  func aWorldWritableRecordsDirectoryIsRefusedByProvideVerifyAndRecords(_ sub: String) throws {
    #expect(try provide().status == 0)
    try FileManager.default.createDirectory(atPath: records + sub, withIntermediateDirectories: true)
    chmod(records + sub, 0o777)
    let message = "pullwarden: refusing \(records + sub): writable by group or others (mode 0777, owner \(me)) (records directory)\n"
    let provided = try provide()
    #expect(provided.status == 4)
    #expect(provided.stdout.isEmpty)
    #expect(provided.stderr == message, "\(provided.stderr)")
    let verified = try verify(records, policy: "AlwaysVerify", #"{"image":"\#(image)"}"#)
    #expect(verified.status == 4)
    #expect(verified.stderr == message, "\(verified.stderr)")
    for command in [["records", "list"], ["records", "gc", "--expired"]] {
      let result = try Pullwarden.run(command + ["--records-dir", records])
      #expect(result.status == 4, "\(command)")
      #expect(result.stderr == message, "\(command): \(result.stderr)")
    }
  }

  // MARK: Config and credential files

  @Test func aConfigOthersCanWriteIsRefused() throws {
    chmod(scratch.path + "/config.yaml", 0o666)
    let result = try provide()
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    #expect(
      result.stderr == "pullwarden: refusing \(scratch.path)/config.yaml: writable by group or others (mode 0666, owner \(me)) (config file)\n",
      "\(result.stderr)")
  }

  @Test func aDockerConfigOthersCanWriteIsRefused() throws {
    chmod(scratch.path + "/docker.json", 0o646)
    let result = try provide()
    #expect(result.status == 3)
    #expect(result.stdout.isEmpty)
    #expect(
      result.stderr == "pullwarden: refusing \(scratch.path)/docker.json: writable by group or others (mode 0646, owner \(me)) (source \"node\")\n",
      "\(result.stderr)")
    #expect(!result.stderr.contains("node-pw"))
  }

  @Test(.enabled(if: runsAsRoot, "chown needs root"))
  func aDockerConfigOwnedByNobodyIsRefused() throws {
    giveToNobody(scratch.path + "/docker.json")
    let result = try provide()
    #expect(result.status == 3)
    #expect(result.stderr.contains("refusing \(scratch.path)/docker.json: owned by a user other than root or the user running Pullwarden (mode 0644, owner nobody)"), "\(result.stderr)")
  }

  /// The Secrets directory is the operator's: one others can write to is refused whole. One Secret
  /// file others could write is skipped like any broken Secret file: the other teams are served, and
  /// the answer is cached only as long as a miss.
  @Test func secretDirectoryAndFilesFollowOwnership() throws {
    let secret = { (name: String, user: String) in
      """
      apiVersion: v1
      kind: Secret
      type: kubernetes.io/dockerconfigjson
      metadata: {name: \(name), namespace: team, uid: uid-\(name)}
      stringData:
        .dockerconfigjson: '{"auths":{"registry.example.com":{"username":"\(user)","password":"\(user)-pw"}}}'

      """
    }
    try scratch.write("secrets/a.yaml", secret("a", "alice"))
    let planted = try scratch.write("secrets/b.yaml", secret("b", "mallory"))
    try scratch.write(
      "secrets.yaml",
      "recordsDir: records\nmissCacheDuration: 7s\nsources: [{name: files, type: secretFiles, matchImages: [registry.example.com], directory: secrets, cacheDuration: 1h}]\n")
    chmod(planted, 0o666)
    let skipped = try provide("secrets.yaml")
    #expect(skipped.status == 0, "\(skipped.stderr)")
    #expect(skipped.stdout.contains(#""username":"alice""#))
    #expect(!skipped.stdout.contains("mallory"))
    #expect(skipped.stdout.contains(#""cacheDuration":"7s""#), "\(skipped.stdout)")
    #expect(
      skipped.stderr.contains(
        "pullwarden: warning: ignoring a Secret file of source \"files\": refusing \(planted): writable by group or others (mode 0666, owner \(me))"),
      "\(skipped.stderr)")

    chmod(planted, 0o644)
    chmod(scratch.path + "/secrets", 0o777)
    let refused = try provide("secrets.yaml")
    #expect(refused.status == 3)
    #expect(refused.stdout.isEmpty)
    #expect(
      refused.stderr == "pullwarden: refusing \(scratch.path)/secrets: writable by group or others (mode 0777, owner \(me)) (source \"files\")\n",
      "\(refused.stderr)")
  }

  // MARK: The kubelet's directory

  /// Pullwarden never writes into the kubelet's own records: a recordsDir named image_manager is a
  /// config error, and one that looks like the kubelet's (pulled/ and pulling/, no pullwarden-expiry/)
  /// is refused at provide, before anything is written.
  @Test func theKubeletsImageManagerIsNeverARecordsDirectory() throws {
    try scratch.write(
      "named.yaml", "recordsDir: kubelet/image_manager/\nsources: [{name: node, type: dockerConfig, matchImages: [registry.example.com], path: docker.json}]\n")
    let named = try provide("named.yaml")
    #expect(named.status == 2)
    #expect(named.stderr.hasPrefix("pullwarden: \"recordsDir\" names the kubelet's image_manager directory: Pullwarden must never write into the kubelet's own pull records"), "\(named.stderr)")
    #expect(named.stderr.contains("(\(scratch.path)/named.yaml:1:") && named.stderr.hasSuffix("recordsDir)\n"), "\(named.stderr)")

    try FileManager.default.createDirectory(atPath: records + "/pulled", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: records + "/pulling", withIntermediateDirectories: true)
    let lookalike = try provide()
    #expect(lookalike.status == 4)
    #expect(lookalike.stdout.isEmpty)
    #expect(lookalike.stderr.contains("looks like the kubelet's image_manager directory (it has pulled/ and pulling/ but no pullwarden-expiry/)"), "\(lookalike.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: records).sorted() == ["pulled", "pulling"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: records + "/pulled").isEmpty)
  }

  // MARK: imageRef against Pullwarden's store

  /// Pullwarden keys its records by image name; a request that also gives the CRI image ID must find
  /// the record by name, not miss it and call a private image preloaded.
  @Test func imageRefAgainstPullwardensStoreFindsTheRecordByName() throws {
    try scratch.write(
      "secrets/a.yaml",
      """
      apiVersion: v1
      kind: Secret
      type: kubernetes.io/dockerconfigjson
      metadata: {name: pull, namespace: team, uid: uid-1}
      stringData:
        .dockerconfigjson: '{"auths":{"registry.example.com":{"username":"a","password":"a-pw"}}}'

      """)
    try scratch.write(
      "secrets.yaml", "recordsDir: records\nsources: [{name: files, type: secretFiles, matchImages: [registry.example.com], directory: secrets, cacheDuration: 1h}]\n")
    #expect(try provide("secrets.yaml").status == 0)
    let id = "sha256:" + sha256Hex("the image's CRI ID")
    let stranger = try verify(records, policy: "NeverVerifyPreloadedImages", #"{"image":"\#(image):v1","imageRef":"\#(id)"}"#)
    try expectMustPull(stranger, "a pod without credentials")
    #expect(try jsonObject(stranger.stdout)["reason"] as? String == "noMatchingCredentials", "\(stranger.stdout)")
    let holder = try verify(
      records, policy: "NeverVerifyPreloadedImages",
      #"{"image":"\#(image):v1","imageRef":"\#(id)","podSecrets":[{"namespace":"team","name":"pull","uid":"uid-1","dockerConfigJSON":{"auths":{"registry.example.com":{"username":"a","password":"a-pw"}}}}]}"#)
    #expect(holder.status == 0, "\(holder.stdout)")
    #expect(try jsonObject(holder.stdout)["reason"] as? String == "secretHashMatched")
    #expect(try verify(records, policy: "NeverVerifyPreloadedImages", #"{"image":"\#(image):v1","imageRef":""}"#).status == 1)
  }
}
