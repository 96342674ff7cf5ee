import Testing

@testable import PullwardenCore

private let now = Timestamp(secondsSinceEpoch: 1_800_000_000)
/// `sha256('{"username":"user","password":"password"}')`, the kubelet's test vector (KEP spec §3).
private let userPasswordHash = "a55436fc140d516560d072c5fe8700385ce9f41629abf65c1edcbcb39fac691d"
private let refAPI = "sha256:" + String(repeating: "a1", count: 32)
private let refOther = "sha256:" + String(repeating: "e5", count: 32)

/// `pullwarden audit`: the questions it asks the verifier, and how it sorts the answers.
@Suite struct AuditTests {
  let directory = TemporaryDirectory()
  var kubeletRecords: String { directory.path + "/image_manager" }

  /// A kubelet record for `ref` (file named by the ref's hash) with `mapping` as its credentialMapping.
  private func kubeletRecord(_ ref: String, _ mapping: String) {
    directory.write(
      "image_manager/pulled/" + RecordStore.fileName(forKey: ref),
      #"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2026-01-01T00:00:00Z","imageRef":"\#(ref)","credentialMapping":\#(mapping)}"#
        + "\n", mode: 0o600)
  }

  private func secretMapping(_ name: String, hash: String, uid: String = "uid-regcred", namespace: String = "team-a") -> String {
    #"{"\#(name)":{"kubernetesSecrets":[{"uid":"\#(uid)","namespace":"\#(namespace)","name":"regcred","credentialHash":"\#(hash)"}]}}"#
  }

  /// A dockerconfigjson Secret with user/password for `registry`.
  private func secret(namespace: String = "team-a", name: String = "regcred", uid: String = "uid-regcred", registry: String) -> String {
    let config = #"{"auths":{"\#(registry)":{"auth":"dXNlcjpwYXNzd29yZA=="}}}"#
    return #"{"apiVersion":"v1","kind":"Secret","metadata":{"namespace":"\#(namespace)","name":"\#(name)","uid":"\#(uid)"},"type":"kubernetes.io/dockerconfigjson","stringData":{".dockerconfigjson":\#(quotedJSON(config))}}"#
  }

  private func quotedJSON(_ text: String) -> String {
    String(decoding: JSON.encode(.string(text)), as: UTF8.self)
  }

  private func secrets(_ items: String...) throws -> AuditSecrets {
    try AuditSecrets.parseList(#"{"apiVersion":"v1","kind":"List","items":[\#(items.joined(separator: ","))]}"#.bytes, name: "secrets.json")
  }

  private func pod(
    _ name: String, namespace: String = "team-a", image: String = "registry.example.com/team-a/api:v1", policy: String? = "IfNotPresent",
    secrets: [String] = []
  ) -> AuditPod {
    AuditPod(
      namespace: namespace, name: name, pullSecretNames: secrets,
      containers: [AuditContainer(kind: .container, name: "app", image: image, pullPolicy: policy ?? AuditContainer.defaultPullPolicy(for: image))])
  }

  private func run(
    _ pods: [AuditPod], secrets: AuditSecrets? = nil, images: RuntimeImages? = nil, records: String? = nil, allowlist: [String] = [],
    rules: KubeletRules = .default
  ) throws -> AuditReport {
    var options = AuditOptions(recordsDirectory: records ?? kubeletRecords)
    options.allowlist = allowlist
    options.rules = rules
    return try Audit(options: options, secrets: secrets, images: images, config: nil).run(pods, now: now)
  }

  private func verdict(_ report: AuditReport, pod: Int = 0, _ policy: VerificationPolicy) -> AuditedContainer.Verdict {
    report.pods[pod].containers[0].verdicts.first { $0.policy == policy }!
  }

  // MARK: Secret hashing

  @Test(arguments: [
    ("registry.example.com/app", "Always"), ("registry.example.com/app:latest", "Always"),
    ("registry.example.com/app:v1", "IfNotPresent"), ("registry.example.com/app@sha256:" + String(repeating: "a1", count: 32), "IfNotPresent"),
    // The tag decides, as SetDefaults_Container does: a digest beside :latest still pulls Always.
    ("registry.example.com/app:latest@sha256:" + String(repeating: "a1", count: 32), "Always"),
  ])
  func anUnsetPullPolicyIsDefaultedAsTheAPIServerDoes(image: String, policy: String) {
    #expect(AuditContainer.defaultPullPolicy(for: image) == policy)
  }

  @Test func podSecretsAreHashedAsTheKubeletHashesThem() throws {
    kubeletRecord(refAPI, secretMapping("registry.example.com/team-a/api", hash: userPasswordHash))
    let report = try run(
      [pod("api", secrets: ["regcred"])], secrets: try secrets(secret(registry: "registry.example.com")),
      images: RuntimeImages([(refAPI, ["registry.example.com/team-a/api:v1"])]))
    let container = report.pods[0].containers[0]
    #expect(container.podSecrets.map(\.credentialHash) == [userPasswordHash])
    #expect(container.podSecrets.first?.uid == "uid-regcred")
    let always = verdict(report, .alwaysVerify)
    #expect(always.decision?.reason == .secretHashMatched)
    #expect(always.outcome == .keepsWorking)
  }

  @Test func aSecretForAnotherRegistryGivesNoCredentials() throws {
    kubeletRecord(refAPI, secretMapping("registry.example.com/team-a/api", hash: userPasswordHash))
    let report = try run(
      [pod("api", secrets: ["regcred"])], secrets: try secrets(secret(registry: "other.example.com")),
      images: RuntimeImages([(refAPI, ["registry.example.com/team-a/api:v1"])]))
    #expect(report.pods[0].containers[0].podSecrets.isEmpty)
    #expect(report.pods[0].containers[0].holdsCredentials == false)
    #expect(verdict(report, .alwaysVerify).outcome == .wouldFail)
  }

  @Test func nothingCredentialLikeIsPrinted() throws {
    kubeletRecord(refAPI, secretMapping("registry.example.com/team-a/api", hash: userPasswordHash))
    let report = try run(
      [pod("api", secrets: ["regcred"])], secrets: try secrets(secret(registry: "registry.example.com")),
      images: RuntimeImages([(refAPI, ["registry.example.com/team-a/api:v1"])]))
    for output in [report.text(), String(decoding: JSON.encode(report.json), as: UTF8.self), YAMLEmitter.emit(report.json)] {
      #expect(!output.contains("password"))
      #expect(!output.contains("dXNlcjpwYXNzd29yZA"))
    }
  }

  // MARK: Classification

  @Test func outcomesFollowTheDecisionThePullPolicyAndTheCredentialsHeld() throws {
    // Another team's Secret (a different hash and uid; equal coordinates would count as a rotation).
    kubeletRecord(refAPI, secretMapping("registry.example.com/team-a/api", hash: "0" + String(userPasswordHash.dropFirst()), uid: "uid-team-b"))
    let images = RuntimeImages([(refAPI, ["registry.example.com/team-a/api:v1"])])
    let report = try run(
      [
        pod("holds-other-credentials", secrets: ["regcred"]),
        pod("holds-none"),
        pod("never", policy: "Never", secrets: ["regcred"]),
        pod("always", policy: "Always"),
        pod("not-on-node", image: "registry.example.com/team-a/api:v2"),
      ],
      secrets: try secrets(secret(registry: "registry.example.com")), images: images)
    #expect(verdict(report, pod: 0, .neverVerify).outcome == .keepsWorking)
    #expect(verdict(report, pod: 0, .alwaysVerify).decision?.reason == .noMatchingCredentials)
    #expect(verdict(report, pod: 0, .alwaysVerify).outcome == .rePullWithCredentials)
    #expect(verdict(report, pod: 1, .neverVerifyPreloadedImages).outcome == .wouldFail)
    #expect(verdict(report, pod: 2, .alwaysVerify).outcome == .wouldFail, "Never may not re-pull, credentials or not")
    #expect(verdict(report, pod: 3, .alwaysVerify).outcome == .pullsAnyway)
    #expect(verdict(report, pod: 3, .alwaysVerify).decision == nil)
    #expect(verdict(report, pod: 4, .alwaysVerify).outcome == .notOnNode)
    let counts = report.summary(.alwaysVerify)
    #expect(counts == AuditReport.Counts(keepsWorking: 0, rePullWithCredentials: 1, wouldFail: 2, notAffected: 2, notRecorded: 0))
    #expect(report.hasBreakage(.alwaysVerify))
    #expect(!report.hasBreakage(.neverVerify))
  }

  @Test func aPreloadedImageBreaksOnlyWhenThePolicyVerifiesIt() throws {
    kubeletRecord(refOther, #"{"nginx":{"nodePodsAccessible":true}}"#)
    let pause = "sha256:" + String(repeating: "c3", count: 32)
    let report = try run(
      [pod("pause", image: "registry.example.com/base/pause:3.9")],
      images: RuntimeImages([(pause, ["registry.example.com/base/pause:3.9"])]), allowlist: ["registry.example.com/base/*"])
    #expect(verdict(report, .neverVerifyPreloadedImages).decision?.reason == .preloadedImage)
    #expect(verdict(report, .neverVerifyAllowlistedImages).decision?.reason == .allowlisted)
    #expect(verdict(report, .alwaysVerify).decision?.reason == .noRecord)
    #expect(verdict(report, .alwaysVerify).outcome == .wouldFail)
  }

  @Test func aPodTakesItsWorstContainersOutcome() throws {
    kubeletRecord(refAPI, #"{"registry.example.com/team-a/api":{"nodePodsAccessible":true}}"#)
    var two = pod("two")
    two.containers.append(AuditContainer(kind: .initContainer, name: "init", image: "registry.example.com/base/pause:3.9", pullPolicy: "IfNotPresent"))
    let report = try run(
      [two], images: RuntimeImages([(refAPI, ["registry.example.com/team-a/api:v1"]), (refOther, ["registry.example.com/base/pause:3.9"])]))
    #expect(report.pods[0].containers[0].verdicts.last?.outcome == .keepsWorking)
    #expect(report.pods[0].outcome(.alwaysVerify) == .wouldFail)
    #expect(report.pods[0].outcome(.neverVerifyPreloadedImages) == .keepsWorking)
  }

  @Test func configSourcesCountAsCredentialsAndOfferTheServiceAccount() throws {
    kubeletRecord(refAPI, #"{"registry.example.com/team-a/api":{"kubernetesServiceAccounts":[{"uid":"uid-sa","namespace":"team-a","name":"api"}]}}"#)
    let config = try PullwardenConfig.parse(
      """
      recordsDir: records
      sources:
        - name: exchange
          type: tokenExchange
          matchImages: ["registry.example.com/team-a"]
          endpoint: https://sts.example.com/oauth2/token
          audience: registry.example.com
          username: oauth2
          tokenAudience: sts.example.com
      """.bytes, path: directory.path + "/config.yaml")
    var options = AuditOptions(recordsDirectory: kubeletRecords)
    options.rules = .default
    var api = pod("api")
    api.serviceAccountName = "api"
    var other = pod("other")
    other.serviceAccountName = "other"
    let report = try Audit(
      options: options, secrets: nil, serviceAccountUIDs: ["team-a/api": "uid-sa", "team-a/other": "uid-other"],
      images: RuntimeImages([(refAPI, ["registry.example.com/team-a/api:v1"])]), config: config
    ).run([api, other, pod("elsewhere", image: "registry.example.com/base/pause:3.9")], now: now)
    #expect(report.pods[0].containers[0].configSources == ["exchange (tokenExchange)"])
    #expect(verdict(report, pod: 0, .alwaysVerify).decision?.reason == .serviceAccountMatched)
    #expect(verdict(report, pod: 1, .alwaysVerify).decision?.reason == .noMatchingCredentials)
    #expect(verdict(report, pod: 1, .alwaysVerify).outcome == .rePullWithCredentials, "the token source gives it credentials")
    #expect(report.pods[2].containers[0].configSources.isEmpty)
    #expect(report.pods[2].containers[0].podServiceAccount == nil, "no token source covers the image")
  }

  // MARK: Matching

  @Test func runtimeImagesResolveNamesAsTheRuntimeDoes() {
    let images = RuntimeImages([
      (refAPI, ["docker.io/library/nginx:latest", "docker.io/library/nginx@sha256:" + String(repeating: "d4", count: 32)]),
      (refOther, ["registry.example.com/team-a/api:v1"]),
    ])
    #expect(images.id(of: "nginx") == refAPI)
    #expect(images.id(of: "docker.io/nginx:latest") == refAPI)
    #expect(images.id(of: "nginx@sha256:" + String(repeating: "d4", count: 32)) == refAPI)
    #expect(images.id(of: "nginx:1.27") == nil)
    #expect(images.id(of: "registry.example.com/team-a/api:v1") == refOther)
    #expect(images.id(of: "not a reference") == nil)
  }

  @Test func withoutImagesRecordNamesFindTheImageID() throws {
    kubeletRecord(refAPI, #"{"nginx":{"nodePodsAccessible":true}}"#)
    let report = try run([pod("web", image: "nginx:1.27"), pod("unknown", image: "registry.example.com/x/y:1")])
    #expect(report.matching == .recordNames)
    let web = report.pods[0].containers[0]
    #expect(web.matching == .recordNames)
    #expect(web.imageRefs == [refAPI])
    #expect(verdict(report, .alwaysVerify).decision?.reason == .nodePodsAccessible)
    // Not recorded: only the verifying policies are unknown.
    #expect(verdict(report, pod: 1, .neverVerifyPreloadedImages).outcome == .keepsWorking)
    #expect(verdict(report, pod: 1, .alwaysVerify).outcome == .notRecorded)
    #expect(report.pods[1].containers[0].onNode == nil)
  }

  @Test func recordNamesWrittenByOlderKubeletsAreFoundToo() throws {
    // 1.35 wrote normalized names; a 1.36 kubelet asks for "nginx" and finds no credentials.
    kubeletRecord(refAPI, #"{"docker.io/library/nginx":{"nodePodsAccessible":true}}"#)
    let newer = try run([pod("web", image: "nginx:1.27")])
    #expect(newer.pods[0].containers[0].imageRefs == [refAPI])
    #expect(verdict(newer, .alwaysVerify).decision?.reason == .noCredentialsForImage)
    let older = try run([pod("web", image: "nginx:1.27")], rules: .normalizedNames)
    #expect(verdict(older, .alwaysVerify).decision?.reason == .nodePodsAccessible)
  }

  @Test func severalImageIDsUnderOneNameGiveTheStrictestAnswer() throws {
    kubeletRecord(refAPI, #"{"registry.example.com/team-a/api":{"nodePodsAccessible":true}}"#)
    kubeletRecord(refOther, secretMapping("registry.example.com/team-a/api", hash: userPasswordHash))
    let report = try run([pod("api")])
    #expect(Set(report.pods[0].containers[0].imageRefs) == [refAPI, refOther])
    #expect(verdict(report, .alwaysVerify).decision?.mustPull == true)
  }

  @Test func pullwardenRecordsAreLookedUpByImageName() throws {
    let records = directory.path + "/records"
    try PullRecorder(directory: records).record(
      [
        SuppliedCredential(
          key: RegistryKey(normalizing: "registry.example.com")!, credential: RegistryCredential(username: "user", password: "password"),
          origin: CredentialOrigin(secret: SecretCoordinates(namespace: "team-a", name: "regcred", uid: "uid-regcred")), sourceName: "test")
      ], image: "registry.example.com/team-a/api", validFor: .hours(1), now: now)
    let report = try run(
      [pod("api", secrets: ["regcred"]), pod("other", image: "registry.example.com/x/y:1")],
      secrets: try secrets(secret(registry: "registry.example.com")), records: records)
    #expect(report.recordsLayout == "pullwarden")
    #expect(report.matching == .imageName)
    #expect(verdict(report, .alwaysVerify).decision?.reason == .secretHashMatched)
    #expect(verdict(report, pod: 1, .alwaysVerify).outcome == .notRecorded)
  }

  @Test func streamedOutputIsTheReportsValue() throws {
    kubeletRecord(refAPI, secretMapping("registry.example.com/team-a/api", hash: userPasswordHash))
    let report = try run(
      [pod("api", secrets: ["regcred"]), pod("other", namespace: "team-b"), pod("always", policy: "Always")],
      secrets: try secrets(secret(registry: "registry.example.com")),
      images: RuntimeImages([(refAPI, ["registry.example.com/team-a/api:v1"])]))
    func written(_ format: String) -> [UInt8] {
      var bytes: [UInt8] = []
      #expect(report.write(format, to: { bytes += $0; return true }))
      return bytes
    }
    #expect(try JSON.parse(written("json"), document: "json", kind: .config) == report.json)
    #expect(try YAMLLoader.document(written("yaml"), name: "yaml", kind: .config).root == report.json)
    #expect(String(decoding: written("text"), as: UTF8.self) == report.text())
    #expect(!report.write("json", to: { _ in false }), "a failed write is reported")
  }

  // MARK: Input

  @Test func podsAreReadFromAListOrASinglePod() throws {
    let one = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"n"},"spec":{"imagePullSecrets":[{"name":"s"},{"name":"s"},{}],"initContainers":[{"name":"i","image":"busybox"}],"containers":[{"name":"c","image":"nginx:1.27"}],"ephemeralContainers":[{"name":"e","image":"busybox:1","imagePullPolicy":"Never"}]}}"#
    let pods = try AuditPod.parseList(one.bytes, name: "pods.json")
    #expect(pods.count == 1)
    #expect(pods[0].pullSecretNames == ["s"])
    #expect(pods[0].containers.map(\.kind) == [.initContainer, .container, .ephemeralContainer])
    #expect(pods[0].containers.map(\.pullPolicy) == ["Always", "IfNotPresent", "Never"])
    let list = try AuditPod.parseList(#"{"apiVersion":"v1","kind":"PodList","items":[\#(one),\#(one)]}"#.bytes, name: "pods.json")
    #expect(list.count == 2)
  }

  @Test func badPodInputIsRefusedWithItsPlace() {
    expectError(.config, containing: ["found \"Deployment\"", "pods.json"]) {
      _ = try AuditPod.parseList(#"{"kind":"Deployment"}"#.bytes, name: "pods.json")
    }
    expectError(.config, containing: ["missing required field \"image\"", "items[0]"]) {
      _ = try AuditPod.parseList(#"{"kind":"List","items":[{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]}}]}"#.bytes, name: "pods.json")
    }
    let many = Array(repeating: #"{"name":"c","image":"a"}"#, count: AuditLimits.containersPerPod + 1).joined(separator: ",")
    expectError(.config, containing: ["more than \(AuditLimits.containersPerPod) containers"]) {
      _ = try AuditPod.parseList(#"{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[\#(many)]}}"#.bytes, name: "pods.json")
    }
    let long = String(repeating: "a", count: AuditLimits.stringBytes + 1)
    expectError(.config, containing: ["longer than"]) {
      _ = try AuditPod.parseList(#"{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"\#(long)"}]}}"#.bytes, name: "pods.json")
    }
    expectError(.config, containing: ["no \"images\" list"]) {
      _ = try RuntimeImages.parse(#"{"items":[]}"#.bytes, name: "images.json")
    }
  }

  @Test func aMissingRecordsDirectoryIsARecordsError() {
    expectError(.records, containing: ["does not exist"]) {
      _ = try run([pod("p")], records: directory.path + "/nowhere")
    }
  }
}

/// The audit's `-o yaml` (the shared `YAMLEmitter`): tenant strings of every awkward kind read back as
/// the same JSON value, under the core schema and kubectl's YAML 1.1.
@Suite struct AuditYAMLTests {
  @Test func readsBackAsTheSameValue() throws {
    let value: JSONValue = .object([
      "plain": .string("docker.io/library/nginx:1.27"),
      "version": .string("1.36"),
      "hash": .string("0123abc"),
      "words": .array(["yes", "no", "on", "null", "~", "true", "", " lead", "trail ", "a: b", "#c", "- d", "x #y", "-", "?"].map { .string($0) }),
      "escapes": .string("line\nbreak\t\u{1B}[31m\u{202E}\u{2028}\"quote\" back\\slash \u{7F}\u{85}\u{FEFF}"),
      "numbers": .array([.integer(-3), .integer(0), .real(1.5), .bool(true), .null]),
      "empty": .object([:]),
      "none": .array([]),
      "nested": .array([.object(["a": .integer(1), "b": .array([.string("x"), .object(["c": .string("d")])])]), .array([.integer(1)])]),
      "ключ: with space": .string("值"),
    ])
    let yaml = YAMLEmitter.emit(value)
    let back = try YAMLLoader.document(Array(yaml.utf8), name: "emitted", kind: .config, schema: .core).root
    #expect(back == value, "\(yaml)")
    let kubernetes = try YAMLLoader.document(Array(yaml.utf8), name: "emitted", kind: .config, schema: .kubernetes).root
    #expect(kubernetes == value, "YAML 1.1 readers (kubectl) read it the same")
  }

  @Test func nothingThatDoesNotPrintIsLeftRaw() {
    let yaml = YAMLEmitter.emit(.object(["k\nfake: 1": .string("v\r\u{1B}\u{202E}\u{2029}")]))
    #expect(yaml.split(separator: "\n").count == 1)
    #expect(!yaml.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || $0.value == 0x1B || $0.value == 0x202E || $0.value == 0x2029 })
  }
}
