import Testing

@testable import PullwardenCore

/// The record files must be exactly the kubelet's: decoded as strictly, encoded to the same bytes.
@Suite struct RecordFormatTests {
  @Test(arguments: Array(KubeletTestdata.pulled.keys).sorted(), RecordAPIVersion.allCases)
  func kubeletTestdataRoundTripsByteForByte(imageRef: String, version: RecordAPIVersion) throws {
    let text = KubeletTestdata.pulled[imageRef]!.replacing(RecordAPIVersion.v1beta1.rawValue, with: version.rawValue)
    let record = try ImagePulledRecord.decode(text.bytes, name: "testdata")
    #expect(record.imageRef == imageRef)
    #expect(record.apiVersion == version)
    #expect(record.lastUpdatedTime == Timestamp(rfc3339: "2024-10-21T12:26:40Z"))
    #expect(String(decoding: record.encoded(), as: UTF8.self) == text)
  }

  @Test func testdataContentIsReadAsTheKubeletReadsIt() throws {
    let secret = try ImagePulledRecord.decode(KubeletTestdata.pulled["testimageref"]!.bytes, name: "t")
    #expect(
      secret.credentialMapping == [
        "docker.io/testing/test": ImagePullCredentials(kubernetesSecrets: [
          ImagePullSecret(uid: "testsecretuid", namespace: "default", name: "pull-secret", credentialHash: "testsecrethash")
        ])
      ])
    let account = try ImagePulledRecord.decode(KubeletTestdata.pulled["testimageref-sa"]!.bytes, name: "t")
    #expect(account.credentialMapping["docker.io/testing/test"]?.kubernetesServiceAccounts == [
      ImagePullServiceAccount(uid: "test-sa-uid", namespace: "default", name: "test-sa")
    ])
    let anonymous = try ImagePulledRecord.decode(KubeletTestdata.pulled["testimage-anonpull"]!.bytes, name: "t")
    #expect(anonymous.credentialMapping["docker.io/testing/test"] == ImagePullCredentials(nodePodsAccessible: true))
    #expect(try ImagePulledRecord.decode(KubeletTestdata.pulled["testemptycredmapping"]!.bytes, name: "t").credentialMapping.isEmpty)
  }

  @Test func intentRoundTrips() throws {
    let intent = try ImagePullIntent.decode(KubeletTestdata.intent.bytes, name: "t")
    #expect(intent.image == "docker.io/testing/test:latest")
    #expect(String(decoding: intent.encoded(), as: UTF8.self) == KubeletTestdata.intent)
  }

  /// Go's zero time is `null`; empty lists, `false` and an empty mapping are left out; keys sorted.
  @Test func encodesLikeGo() {
    var record = ImagePulledRecord(lastUpdatedTime: nil, imageRef: "ref")
    #expect(String(decoding: record.encoded(), as: UTF8.self)
      == #"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":null,"imageRef":"ref"}"# + "\n")
    record.lastUpdatedTime = Timestamp(nanosecondsSinceEpoch: 1_729_513_600_987_654_321)
    record.credentialMapping["z.io/b"] = ImagePullCredentials(nodePodsAccessible: true)
    record.credentialMapping["a.io/<x>"] = ImagePullCredentials(kubernetesServiceAccounts: [ImagePullServiceAccount(uid: "u", namespace: "n", name: "s")])
    record.credentialMapping["m.io/c"] = ImagePullCredentials()
    #expect(String(decoding: record.encoded(), as: UTF8.self)
      == #"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2024-10-21T12:26:40Z","imageRef":"ref","credentialMapping":{"a.io/\u003cx\u003e":{"kubernetesServiceAccounts":[{"uid":"u","namespace":"n","name":"s"}]},"m.io/c":{},"z.io/b":{"nodePodsAccessible":true}}}"# + "\n")
  }

  /// 1.33 and 1.34 serialize a nil Secret list as null; later kubelets read that as empty.
  @Test func nullListsAndZeroTimeAreAccepted() throws {
    let text = #"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1alpha1","lastUpdatedTime":null,"imageRef":"r","credentialMapping":{"x.io/a":{"kubernetesSecrets":null,"nodePodsAccessible":true}}}"#
    let record = try ImagePulledRecord.decode(text.bytes, name: "t")
    #expect(record.lastUpdatedTime == nil)
    #expect(record.credentialMapping["x.io/a"] == ImagePullCredentials(nodePodsAccessible: true))
  }

  /// Strict decoding, as the kubelet's codec with EnableStrict: anything else is an error that names
  /// the file and the field.
  @Test(arguments: [
    (#"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":"r","preloaded":true}"#, "unknown key \"preloaded\""),
    (#"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":"r","credentialMapping":{"a":{"kubernetesSecretCoordinates":[]}}}"#, "unknown key \"kubernetesSecretCoordinates\""),
    (#"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":"r","credentialMapping":{"a":{"kubernetesSecrets":[{"uid":"u","hash":"h"}]}}}"#, "unknown key \"hash\""),
    (#"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":"r","credentialMapping":{"a":{"nodePodsAccessible":"true"}}}"#, "\"nodePodsAccessible\" must be true or false"),
    (#"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":7}"#, "\"imageRef\" must be a string"),
    (#"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":"r","lastUpdatedTime":"yesterday"}"#, "not an RFC 3339 time"),
    (#"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":"r","lastUpdatedTime":"2999-01-01T00:00:00Z"}"#, "not an RFC 3339 time between"),
    (#"{"kind":"ImagePulledRecord","apiVersion":"imagemanager.kubelet.config.k8s.io/v1alpha1","imageRef":"r"}"#, "unsupported apiVersion"),
    (#"{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1beta1","image":"x"}"#, "kind \"ImagePullIntent\" is not \"ImagePulledRecord\""),
    (#"{"apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":"r"}"#, "missing \"kind\""),
    (#"{"kind":"ImagePulledRecord","imageRef":"r"}"#, "missing \"apiVersion\""),
    (#"{"kind":"ImagePulledRecord","kind":"ImagePulledRecord"}"#, "duplicate object key"),
    (#"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","imageRef":"r""#, "invalid JSON"),
    ("", "invalid JSON"),
    ("[]", "must be a JSON object"),
  ])
  func strictDecodingRejects(text: String, fragment: String) {
    expectError(.records, containing: [fragment, "/records/pulled/sha256-x"]) {
      _ = try ImagePulledRecord.decode(text.bytes, name: "/records/pulled/sha256-x")
    }
  }

  @Test func companionRoundTripsAndIsStrict() throws {
    var expiry = CredentialExpiry(imageRef: "docker.io/a/b", lastUpdatedTime: Timestamp(secondsSinceEpoch: 1_700_000_000))
    let secret = ImagePullSecret(uid: "u", namespace: "n", name: "s", credentialHash: "h")
    expiry.extend(secret, for: "docker.io/a/b", until: Timestamp(secondsSinceEpoch: 1_700_000_300))
    expiry.extendNodeAccess("docker.io/a/c", until: Timestamp(secondsSinceEpoch: 1_700_000_600))
    expiry.extend(ImagePullServiceAccount(uid: "su", namespace: "n", name: "sa"), for: "docker.io/a/b", until: Timestamp(secondsSinceEpoch: 1_700_000_900))
    let text = String(decoding: expiry.encoded(), as: UTF8.self)
    #expect(
      text
        == #"{"kind":"CredentialExpiry","apiVersion":"pullwarden.dev/v1alpha1","lastUpdatedTime":"2023-11-14T22:13:20Z","imageRef":"docker.io/a/b","credentialMapping":{"docker.io/a/b":{"kubernetesSecrets":[{"uid":"u","namespace":"n","name":"s","credentialHash":"h","expiresAt":"2023-11-14T22:18:20Z"}],"kubernetesServiceAccounts":[{"uid":"su","namespace":"n","name":"sa","expiresAt":"2023-11-14T22:28:20Z"}]},"docker.io/a/c":{"nodePodsAccessibleExpiresAt":"2023-11-14T22:23:20Z"}}}"#
          + "\n")
    #expect(try CredentialExpiry.decode(text.bytes, name: "t") == expiry)
    // A later expiry wins; an earlier one does not shorten what was promised.
    expiry.extend(secret, for: "docker.io/a/b", until: Timestamp(secondsSinceEpoch: 1_700_000_100))
    #expect(expiry.images["docker.io/a/b"]?.secrets[secret] == Timestamp(secondsSinceEpoch: 1_700_000_300))
    expectError(.records, containing: ["unknown key \"expires\""]) {
      _ = try CredentialExpiry.decode(
        #"{"kind":"CredentialExpiry","apiVersion":"pullwarden.dev/v1alpha1","imageRef":"r","credentialMapping":{"a":{"kubernetesServiceAccounts":[{"uid":"u","expires":"x"}]}}}"#.bytes, name: "t")
    }
    expectError(.records, containing: ["missing \"expiresAt\""]) {
      _ = try CredentialExpiry.decode(
        #"{"kind":"CredentialExpiry","apiVersion":"pullwarden.dev/v1alpha1","imageRef":"r","credentialMapping":{"a":{"kubernetesServiceAccounts":[{"uid":"u"}]}}}"#.bytes, name: "t")
    }
  }

  /// The companion only ever describes credentials the record holds.
  @Test func companionIsPrunedToTheRecord() {
    let kept = ImagePullSecret(uid: "1", namespace: "n", name: "kept", credentialHash: "h1")
    let dropped = ImagePullSecret(uid: "2", namespace: "n", name: "dropped", credentialHash: "h2")
    var expiry = CredentialExpiry(imageRef: "r")
    let time = Timestamp(secondsSinceEpoch: 100)
    expiry.extend(kept, for: "img", until: time)
    expiry.extend(dropped, for: "img", until: time)
    expiry.extendNodeAccess("img", until: time)
    expiry.extend(kept, for: "gone", until: time)
    expiry.prune(keeping: ImagePulledRecord(lastUpdatedTime: nil, imageRef: "r", credentialMapping: ["img": ImagePullCredentials(kubernetesSecrets: [kept])]))
    #expect(expiry.images.keys.sorted() == ["img"])
    #expect(expiry.images["img"]?.secrets == [kept: time])
    #expect(expiry.images["img"]?.nodePodsAccessible == nil)
  }
}
