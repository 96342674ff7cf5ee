#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PullwardenCore

/// `config check`: each check with a config that triggers it and one that does not.
@Suite struct ConfigCheckTests {
  let scratch = TemporaryDirectory()

  static let dockerConfig = #"{"auths": {"registry.example.com": {"username": "node", "password": "node-password"}}}"#
  static let secret = """
    apiVersion: v1
    kind: Secret
    metadata: {name: pull, namespace: team-a, uid: u1}
    type: kubernetes.io/dockerconfigjson
    stringData:
      .dockerconfigjson: '{"auths": {"registry.example.com/team-a": {"username": "robot", "password": "team-password"}}}'
    """

  /// Writes the config (and `files`, 0600) and checks it.
  private func check(
    _ config: String, files: [String: String] = [:], kubelet: String? = nil, binaryName: String = "pullwarden"
  ) -> ConfigCheckReport {
    for (name, text) in files { scratch.write(name, text, mode: 0o600) }
    let path = scratch.write("config.yaml", config, mode: 0o600)
    let kubeletPath = kubelet.map { scratch.write("kubelet.yaml", $0.replacingAll("$CONFIG", with: path), mode: 0o600) }
    return ConfigCheck.run(configPath: path, kubeletConfigPath: kubeletPath, binaryName: binaryName)
  }

  private func codes(_ report: ConfigCheckReport, _ severity: ConfigFinding.Severity) -> [String] {
    report.findings.filter { $0.severity == severity }.map(\.code)
  }

  private func passthrough(_ patterns: String, name: String = "pass") -> String {
    "  - {name: \(name), type: passthrough, matchImages: \(patterns), username: k8s, tokenAudience: a.io}\n"
  }

  private let docker = "  - {name: node, type: dockerConfig, matchImages: [mirror.example.com], path: docker.json}\n"

  // MARK: Clean

  @Test func aCleanConfigHasNoFindings() {
    let report = check(
      "recordsDir: records\nsources:\n" + docker + "  - {name: team, type: secretFiles, matchImages: [registry.example.com/team-a], directory: secrets}\n",
      files: ["docker.json": Self.dockerConfig, "secrets/pull.yaml": Self.secret])
    #expect(report.findings == [], "\(report.findings)")
    #expect(report.exitCode(strict: true) == 0)
    #expect(report.recordsNote?.contains("will create it") == true)
    #expect(report.text().hasPrefix("config \(scratch.path)/config.yaml is valid\n"))
  }

  // MARK: Errors

  @Test func anInvalidConfigIsOneErrorWithItsLine() {
    let report = check("sources:\n  - name: a\n    type: dockerConfig\n    matchImage: [x.io]\n")
    #expect(codes(report, .error) == ["config-invalid"])
    #expect(report.errors[0].line == 4)
    #expect(report.exitCode(strict: false) == 2)
  }

  @Test func theKubeletsConfigGivenAsConfigIsRecognised() {
    let report = check("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n")
    #expect(codes(report, .error) == ["kubelet-config-given"])
    #expect(report.errors[0].message == ConfigCheck.kubeletConfigGivenMessage)
    #expect(check("kind: CredentialProviderConfig\n").errors.map(\.code) == ["kubelet-config-given"])
  }

  @Test func everyMissingFileIsReportedNotOnlyTheFirst() {
    let report = check(
      """
      recordsDir: records
      sources:
        - {name: node, type: dockerConfig, matchImages: [a.io], path: missing.json}
        - {name: team, type: secretFiles, matchImages: [b.io], directory: no-secrets}
        - {name: x, type: tokenExchange, matchImages: [c.io], endpoint: "https://sts.example.com", username: u, caFile: ca.pem, clientCertFile: c.pem, clientKeyFile: k.pem}
        - {name: api, type: kubernetesSecrets, matchImages: [d.io], kubeconfig: kubeconfig}
      """)
    #expect(codes(report, .error) == Array(repeating: "missing-file", count: 6), "\(report.findings)")
    #expect(report.errors[0].line == 3)
    #expect(report.errors[0].fix?.contains("create it") == true)
  }

  @Test func untrustedFilesAreErrors() {
    let report = check(
      "recordsDir: records\nsources:\n" + docker, files: ["docker.json": Self.dockerConfig])
    #expect(report.errors.isEmpty)
    chmod(scratch.path + "/docker.json", 0o666)
    let untrusted = ConfigCheck.run(configPath: scratch.path + "/config.yaml")
    #expect(codes(untrusted, .error) == ["untrusted-file"])
    #expect(untrusted.errors[0].message.contains("writable by group or others"))
    chmod(scratch.path + "/config.yaml", 0o666)
    #expect(codes(ConfigCheck.run(configPath: scratch.path + "/config.yaml"), .error) == ["untrusted-file"])
  }

  /// A CA or client file someone else could have written is refused by provide (HTTPClient), so
  /// config check says so first.
  @Test func untrustedTLSFilesAreErrors() {
    let config = "recordsDir: records\nsources:\n  - {name: x, type: tokenExchange, matchImages: [c.io], endpoint: \"https://sts.example.com\", username: u, caFile: ca.pem, clientCertFile: c.pem, clientKeyFile: k.pem}\n"
    let report = check(config, files: ["ca.pem": "ca", "c.pem": "cert", "k.pem": "key"])
    #expect(report.errors.isEmpty, "\(report.findings)")
    for name in ["ca.pem", "c.pem", "k.pem"] { chmod(scratch.path + "/" + name, 0o660) }
    let untrusted = ConfigCheck.run(configPath: scratch.path + "/config.yaml")
    #expect(codes(untrusted, .error) == Array(repeating: "untrusted-file", count: 3), "\(untrusted.findings)")
    #expect(untrusted.errors.allSatisfy { $0.message.contains("writable by group or others (mode 0660") })
  }

  @Test func brokenDockerConfigsSecretFilesAndKubeconfigsAreErrors() {
    let report = check(
      """
      recordsDir: records
      sources:
        - {name: node, type: dockerConfig, matchImages: [a.io], path: docker.json}
        - {name: team, type: secretFiles, matchImages: [b.io], directory: secrets}
        - {name: api, type: kubernetesSecrets, matchImages: [d.io], kubeconfig: kubeconfig, kubeconfigContext: other}
      """,
      files: [
        "docker.json": #"{"auths": {"a.io": "hunter2"}}"#, "secrets/good.yaml": Self.secret, "secrets/bad.yaml": "kind: Secret\nmetadata: [\n",
        "kubeconfig": "clusters: []\ncontexts: []\n",
      ])
    #expect(codes(report, .error) == ["docker-config-invalid", "secret-file-invalid", "kubeconfig-invalid"], "\(report.findings)")
    #expect(report.errors[1].file == scratch.path + "/secrets/bad.yaml")
    #expect(!report.text().contains("hunter2"))
    #expect(!report.text().contains("team-password"))
  }

  @Test func aRecordsDirThatCannotBeWrittenIsAnErrorAndTheProbeLeavesNothing() {
    scratch.write("records-file", "")
    let report = check("recordsDir: records-file\ncredentialCache: {dir: records-file/cache}\nsources:\n" + passthrough("[a.io]"))
    #expect(codes(report, .error) == ["records-dir-not-writable", "credential-cache-not-writable"], "\(report.findings)")
    #expect(report.errors[0].line == 1)

    _ = system("mkdir -p '\(scratch.path)/records'")
    let writable = check("recordsDir: records\ncredentialCache: {dir: records}\nsources:\n" + passthrough("[a.io]"))
    #expect(writable.errors.isEmpty)
    #expect(writable.recordsNote == nil)
    #expect((try? FileIO.directoryEntries(scratch.path + "/records")) == [])
  }

  @Test func aRecordsFolderProvideWritesInMustBeWritableToo() {
    _ = system("mkdir -p '\(scratch.path)/records/pulled' && chmod 0777 '\(scratch.path)/records/pulled'")
    let report = check("recordsDir: records\nsources:\n" + passthrough("[a.io]"))
    #expect(codes(report, .error) == ["records-dir-not-writable"])
    #expect(report.errors[0].message.contains("records/pulled: refusing"))
    chmod(scratch.path + "/records/pulled", 0o700)
    #expect(ConfigCheck.run(configPath: scratch.path + "/config.yaml").findings == [])
  }

  @Test func aLogOrMetricsDirectoryPullwardenCannotUseIsAWarning() {
    _ = system("mkdir -p '\(scratch.path)/open' '\(scratch.path)/records' && chmod 0777 '\(scratch.path)/open'")
    let observed = "log: {file: {path: \(scratch.path)/open/decisions.jsonl}}\nmetrics: {textfile: \(scratch.path)/open/p.prom}\n"
    let report = check("recordsDir: records\n" + observed + "sources:\n" + passthrough("[a.io]"))
    #expect(codes(report, .warning) == ["log-dir-not-writable", "metrics-dir-not-writable"], "\(report.findings)")
    #expect(report.errors.isEmpty)
    #expect(report.warnings.map(\.line) == [2, 3])
    chmod(scratch.path + "/open", 0o755)
    #expect(ConfigCheck.run(configPath: scratch.path + "/config.yaml").findings == [])
  }

  // MARK: Pattern warnings

  @Test func aDigestInAPatternIsRefusedWithWhatToWrite() {
    let report = check("recordsDir: records\nsources:\n" + passthrough("[\"registry.example.com/app@sha256:0123456789abcdef\"]"))
    #expect(codes(report, .error) == ["config-invalid"])
    #expect(report.errors[0].message.contains("pattern has a digest"))
    #expect(report.errors[0].message.contains("write \"registry.example.com/app\""))
  }

  @Test(arguments: [
    ("*", "bare-wildcard"), ("index.docker.io", "index-docker-io"), ("Registry.example.com", "upper-case"),
    ("registry.example.com/app:1.0", "tag-or-digest"),
  ])
  func surprisingPatternsAreWarnings(_ pattern: String, _ code: String) {
    let report = check("recordsDir: records\nsources:\n" + passthrough("[\"\(pattern)\"]"))
    #expect(codes(report, .warning) == [code], "\(report.findings)")
    #expect(report.warnings[0].line == 3)
    #expect(report.exitCode(strict: false) == 0)
    #expect(report.exitCode(strict: true) == 1)
  }

  @Test func ordinaryPatternsAreNotWarnedAbout() {
    let report = check("recordsDir: records\nsources:\n" + passthrough(#"["*.*", "docker.io/library", "registry.local:5000/app", "*.example.com"]"#))
    #expect(report.findings == [], "\(report.findings)")
  }

  @Test func aPatternWithoutThePortItsKeysUseIsAWarning() {
    let config = "recordsDir: records\nsources:\n  - {name: node, type: dockerConfig, matchImages: [registry.local], path: docker.json}\n"
    let report = check(config, files: ["docker.json": #"{"auths": {"registry.local:5000": {"username": "u", "password": "p"}}}"#])
    #expect(codes(report, .warning) == ["missing-port"])
    #expect(report.warnings[0].fix == "add \"registry.local:5000\" to matchImages")
    let fixed = check(config.replacingAll("[registry.local]", with: "[registry.local, \"registry.local:5000\"]"))
    #expect(fixed.findings == [])
  }

  // MARK: Sources against each other

  @Test func aNodeWideSourceOverlappingASecretSourceIsAWarning() {
    let team = "  - {name: team, type: secretFiles, matchImages: [registry.example.com/team-a], directory: secrets}\n"
    let files = ["docker.json": Self.dockerConfig, "secrets/pull.yaml": Self.secret]
    let overlapping = check(
      "recordsDir: records\nsources:\n" + team + "  - {name: node, type: dockerConfig, matchImages: [\"*.example.com\"], path: docker.json}\n", files: files)
    #expect(codes(overlapping, .warning) == ["node-wide-overlap"])
    #expect(overlapping.warnings[0].message.contains("nodePodsAccessible"))
    #expect(check("recordsDir: records\nsources:\n" + team + docker, files: files).findings == [])
  }

  @Test func aSourceShadowedByAnEarlierOneWithTheSameCredentialsIsAWarning() {
    let files = ["docker.json": Self.dockerConfig]
    let shadowed = check(
      "recordsDir: records\nsources:\n  - {name: wide, type: dockerConfig, matchImages: [\"*.example.com\"], path: docker.json}\n" + docker, files: files)
    #expect(codes(shadowed, .warning) == ["shadowed-source"])
    #expect(shadowed.warnings[0].message.contains("\"node\" is shadowed by \"wide\""))
    // The other way round the later source serves images the first does not.
    let notShadowed = check(
      "recordsDir: records\nsources:\n" + docker + "  - {name: wide, type: dockerConfig, matchImages: [\"*.example.com\"], path: docker.json}\n", files: files)
    #expect(notShadowed.findings == [])
    // A different file may hold other credentials: not provably shadowed.
    let otherFile = check(
      "recordsDir: records\nsources:\n  - {name: wide, type: dockerConfig, matchImages: [\"*.example.com\"], path: other.json}\n" + docker,
      files: ["other.json": Self.dockerConfig])
    #expect(otherFile.findings == [])
  }

  @Test func credentialFilesReadableByOthersAreWarnings() {
    let report = check("recordsDir: records\nsources:\n" + docker, files: ["docker.json": Self.dockerConfig])
    #expect(report.findings == [])
    chmod(scratch.path + "/docker.json", 0o640)
    let readable = ConfigCheck.run(configPath: scratch.path + "/config.yaml")
    #expect(codes(readable, .warning) == ["credential-file-readable"])
    #expect(readable.warnings[0].fix == "chmod 600 \(scratch.path)/docker.json")
  }

  @Test func patternRelations() throws {
    func pattern(_ text: String) throws -> ImagePattern { try ImagePattern(parsing: text) }
    #expect(try pattern("*.example.com").covers(pattern("registry.example.com/team")))
    #expect(try pattern("registry.example.com").covers(pattern("registry.example.com/team")))
    #expect(try !pattern("registry.example.com/team").covers(pattern("registry.example.com")))
    #expect(try !pattern("registry.example.com").covers(pattern("registry.example.com:5000")))
    #expect(try !pattern("app*.example.com").covers(pattern("*.example.com")))
    #expect(try pattern("*.example.com").overlaps(pattern("registry.example.com/team")))
    #expect(try pattern("team*.io").overlaps(pattern("*-prod.io")))
    #expect(try !pattern("a*.io").overlaps(pattern("b*.io")))
    #expect(try !pattern("registry.example.com/a").overlaps(pattern("registry.example.com/b")))
  }

  // MARK: The kubelet's CredentialProviderConfig

  private func kubelet(_ provider: String) -> String {
    """
    apiVersion: kubelet.config.k8s.io/v1
    kind: CredentialProviderConfig
    providers:
      - name: pullwarden
        apiVersion: credentialprovider.kubelet.k8s.io/v1
        defaultCacheDuration: 5m
        args: [provide, --config, $CONFIG]
    \(provider.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))

    """
  }

  private let tokenAttributes = "tokenAttributes: {serviceAccountTokenAudience: a.io, cacheType: Token, requireServiceAccount: true}"

  @Test func aMatchingKubeletConfigIsClean() {
    let report = check("recordsDir: records\nsources:\n" + passthrough("[a.io]"), kubelet: kubelet("matchImages: [a.io, b.io]\n" + tokenAttributes))
    #expect(report.findings == [], "\(report.findings)")
  }

  @Test func kubeletProviderNameArgsAndMissingProvider() {
    let config = "recordsDir: records\nsources:\n" + passthrough("[a.io]")
    let renamed = check(config, kubelet: kubelet("matchImages: [a.io]\n" + tokenAttributes), binaryName: "pullwarden-token")
    #expect(codes(renamed, .error) == ["kubelet-provider-name"])
    let otherConfig = check(
      config, kubelet: kubelet("matchImages: [a.io]\n" + tokenAttributes).replacingAll("$CONFIG", with: "/etc/pullwarden/other.yaml"))
    #expect(codes(otherConfig, .error) == ["kubelet-args"])
    let none = check(
      config,
      kubelet: kubelet("matchImages: [a.io]\n" + tokenAttributes).replacingAll("$CONFIG", with: "/etc/other.yaml").replacingAll("name: pullwarden", with: "name: ecr"))
    #expect(codes(none, .error) == ["kubelet-provider-missing"])
  }

  @Test func kubeletMatchImagesMustCoverEveryPattern() {
    let report = check(
      "recordsDir: records\nsources:\n" + passthrough(#"["a.io", "registry.example.com:5000"]"#),
      kubelet: kubelet("matchImages: [a.io, registry.example.com]\n" + tokenAttributes))
    #expect(codes(report, .error) == ["kubelet-match-images"])
    #expect(report.errors[0].line == 3)
    #expect(report.errors[0].file == scratch.path + "/config.yaml")
  }

  @Test func tokenAttributesMustBePresentWithV1AndCacheType() {
    let config = "recordsDir: records\nsources:\n" + passthrough("[a.io]")
    #expect(codes(check(config, kubelet: kubelet("matchImages: [a.io]")), .error) == ["kubelet-token-attributes-missing"])
    let old = check(config, kubelet: kubelet("matchImages: [a.io]\n" + tokenAttributes).replacingAll("provider.kubelet.k8s.io/v1\n", with: "provider.kubelet.k8s.io/v1beta1\n"))
    #expect(codes(old, .error) == ["kubelet-api-version"])
    let noCacheType = check(config, kubelet: kubelet("matchImages: [a.io]\n" + tokenAttributes.replacingAll("cacheType: Token, ", with: "")))
    #expect(codes(noCacheType, .error) == ["kubelet-cache-type-missing"])
    let unneeded = check("recordsDir: records\nsources:\n" + docker, files: ["docker.json": Self.dockerConfig], kubelet: kubelet("matchImages: [mirror.example.com]\n" + tokenAttributes))
    #expect(codes(unneeded, .warning) == ["kubelet-token-attributes-unneeded"])
  }

  @Test func tokenAttributesMustAgreeWithTheSources() {
    let config = """
      recordsDir: records
      sources:
        - {name: pass, type: passthrough, matchImages: [a.io], username: k8s, tokenAudience: a.io, requiredAnnotations: [pullwarden.dev/role]}
      """
    let report = check(
      config,
      kubelet: kubelet(
        "matchImages: [a.io]\ntokenAttributes: {serviceAccountTokenAudience: b.io, cacheType: ServiceAccount, requireServiceAccount: false}"))
    #expect(
      codes(report, .error) == ["kubelet-token-attributes", "kubelet-token-attributes", "kubelet-token-attributes"], "\(report.findings)")
    #expect(codes(report, .warning) == ["kubelet-require-service-account"])
    let agreeing = check(
      config,
      kubelet: kubelet(
        "matchImages: [a.io]\ntokenAttributes: {serviceAccountTokenAudience: a.io, cacheType: Token, requireServiceAccount: true, requiredServiceAccountAnnotationKeys: [pullwarden.dev/role]}"
      ))
    #expect(agreeing.findings == [], "\(agreeing.findings)")
  }

  @Test func aKubeletPatternWithAPortThePullwardenPatternLacks() {
    let report = check(
      "recordsDir: records\nsources:\n" + passthrough("[registry.local]"),
      kubelet: kubelet("matchImages: [registry.local, \"registry.local:5000\"]\n" + tokenAttributes))
    #expect(codes(report, .warning) == ["missing-port"])
    #expect(report.warnings[0].fix == "add \"registry.local:5000\" to matchImages")
    let both = check(
      "recordsDir: records\nsources:\n" + passthrough(#"[registry.local, "registry.local:5000"]"#),
      kubelet: kubelet("matchImages: [registry.local, \"registry.local:5000\"]\n" + tokenAttributes))
    #expect(both.findings == [])
  }

  @Test func kubeletDefaultCacheDuration() {
    let config = "recordsDir: records\nsources:\n" + passthrough("[a.io]")
    let missing = check(config, kubelet: kubelet("matchImages: [a.io]\n" + tokenAttributes).replacingAll("    defaultCacheDuration: 5m\n", with: ""))
    #expect(codes(missing, .error) == ["kubelet-default-cache-duration"])
    let long = check(config, kubelet: kubelet("matchImages: [a.io]\n" + tokenAttributes).replacingAll("defaultCacheDuration: 5m", with: "defaultCacheDuration: 12h"))
    #expect(codes(long, .warning) == ["kubelet-default-cache-duration-long"])
  }

  @Test func whatTheKubeletRefusesInTokenAttributes() {
    let config = "recordsDir: records\nsources:\n" + passthrough("[a.io]")
    let report = check(
      config,
      kubelet: kubelet(
        "matchImages: [a.io]\ntokenAttributes: {cacheType: Pod, requiredServiceAccountAnnotationKeys: [x.io/a]}"))
    let messages = report.errors.filter { $0.code == "kubelet-token-attributes" }.map(\.message)
    #expect(messages.contains { $0.contains("without serviceAccountTokenAudience") }, "\(messages)")
    #expect(messages.contains { $0.contains("\"Pod\" is neither Token nor ServiceAccount") })
    #expect(messages.contains { $0.contains("without requireServiceAccount") })
    let skipping = check(
      config,
      kubelet: kubelet(
        "matchImages: [a.io]\ntokenAttributes: {serviceAccountTokenAudience: a.io, cacheType: Token, requireServiceAccount: false, requiredServiceAccountAnnotationKeys: [x.io/a]}"))
    #expect(skipping.errors.contains { $0.message.contains("requiredServiceAccountAnnotationKeys with requireServiceAccount: false") })
  }

  @Test func aKubeletConfigTheKubeletWouldRefuseIsInvalid() {
    let config = "recordsDir: records\nsources:\n" + passthrough("[a.io]")
    let provider = kubelet("matchImages: [a.io]\n" + tokenAttributes)
    let twice = provider + provider.split(separator: "\n").dropFirst(3).joined(separator: "\n") + "\n"
    #expect(check(config, kubelet: twice).errors.map(\.message) == ["duplicate provider name \"pullwarden\": the kubelet refuses to start (at providers[1].name)"])
    let unknown = check(config, kubelet: provider.replacingAll("kubelet.config.k8s.io/v1\n", with: "kubelet.config.k8s.io/v2\n"))
    #expect(codes(unknown, .error) == ["kubelet-config-invalid"])
    #expect(unknown.errors[0].line == 1)
  }

  @Test func aPullwardenConfigGivenAsTheKubeletsIsRecognised() {
    let report = check("recordsDir: records\nsources:\n" + passthrough("[a.io]"), kubelet: "sources: []\n")
    #expect(codes(report, .error) == ["kubelet-config-invalid"])
    #expect(report.errors[0].message.contains("pass it as --config"))
  }
}
