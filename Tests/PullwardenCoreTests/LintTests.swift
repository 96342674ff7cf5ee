#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PullwardenCore

/// `pullwarden lint`: the rules, the positions they report, silencing, inputs and formats.
@Suite struct LintTests {
  /// A Pod with one container, as YAML.
  static func pod(image: String, policy: String? = nil, pullSecrets: Bool = false, annotations: String = "") -> String {
    var text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ns\n"
    if !annotations.isEmpty { text += "  annotations:\n    pullwarden.dev/lint-ignore: \"\(annotations)\"\n" }
    text += "spec:\n"
    if pullSecrets { text += "  imagePullSecrets: [{name: regcred}]\n" }
    text += "  containers:\n  - name: app\n    image: \(image)\n"
    if let policy { text += "    imagePullPolicy: \(policy)\n" }
    return text
  }

  static func lint(_ text: String, config: PullwardenConfig? = nil, file: String = "m.yaml") -> LintReport {
    var linter = Linter(config: config)
    linter.lint(Array(text.utf8), file: file)
    return linter.makeReport()
  }

  static func rules(_ report: LintReport) -> [String] { report.reported.map(\.rule.rawValue) }

  // MARK: Default pull policy, as the API server sets it

  @Test(arguments: [
    ("nginx", PullPolicy.always), ("nginx:latest", .always), ("nginx:1.25", .ifNotPresent),
    ("nginx@sha256:" + String(repeating: "a", count: 64), .ifNotPresent),
    ("nginx:latest@sha256:" + String(repeating: "a", count: 64), .always),
    ("nginx:1.25@sha256:" + String(repeating: "a", count: 64), .ifNotPresent),
    ("registry.example.com:5000/app", .always),
  ])
  func kubernetesDefault(image: String, expected: PullPolicy) throws {
    #expect(PullPolicy.kubernetesDefault(for: try ImageReference(parsing: image)) == expected)
  }

  // MARK: latest-tag-without-policy

  @Test(arguments: ["nginx", "nginx:latest", "docker.io/library/nginx:latest", "registry.example.com:5000/app"])
  func latestWithoutPolicyIsReported(image: String) {
    let report = Self.lint(Self.pod(image: image, pullSecrets: true))
    #expect(Self.rules(report) == ["latest-tag-without-policy"])
    #expect(report.reported.first?.message.contains("defaults imagePullPolicy to Always") == true)
  }

  @Test func emptyPolicyIsUnset() {
    #expect(Self.rules(Self.lint(Self.pod(image: "nginx", policy: "\"\""))) == ["latest-tag-without-policy"])
  }

  @Test(arguments: [("nginx", "Always"), ("nginx:latest", "IfNotPresent"), ("nginx:1.25", nil)] as [(String, String?)])
  func latestWithPolicyOrPinnedTagIsClean(image: String, policy: String?) {
    #expect(Self.rules(Self.lint(Self.pod(image: image, policy: policy))) == [])
  }

  // MARK: always-on-digest

  static let digest = "@sha256:" + String(repeating: "b", count: 64)

  @Test func alwaysOnDigestPointsAtThePolicy() {
    let report = Self.lint(Self.pod(image: "nginx" + Self.digest, policy: "Always"))
    #expect(Self.rules(report) == ["always-on-digest"])
    // imagePullPolicy is on line 10, its value at column 22.
    #expect(report.reported.first?.line == 10)
    #expect(report.reported.first?.column == 22)
  }

  @Test func latestTagWithDigestDefaultsToAlways() {
    let report = Self.lint(Self.pod(image: "nginx:latest" + Self.digest))
    #expect(Self.rules(report) == ["always-on-digest"])
    #expect(report.reported.first?.message.contains("its latest tag makes Kubernetes default") == true)
  }

  @Test(arguments: [("nginx" + digest, nil), ("nginx" + digest, "IfNotPresent"), ("nginx:1.2" + digest, nil)] as [(String, String?)])
  func digestWithoutAlwaysIsClean(image: String, policy: String?) {
    #expect(Self.rules(Self.lint(Self.pod(image: image, policy: policy))) == [])
  }

  // MARK: private-image-without-credentials

  @Test(arguments: [("registry.corp.example/app:1", nil), ("registry.corp.example/app:1", "Never"), ("localhost:5000/a" + digest, nil)] as [(String, String?)])
  func privateWithoutCredentialsIsReported(image: String, policy: String?) {
    let report = Self.lint(Self.pod(image: image, policy: policy))
    #expect(Self.rules(report) == ["private-image-without-credentials"])
    #expect(report.reported.first?.message.contains("without --config Pullwarden cannot tell") == true)
  }

  @Test func privateWithPullSecretsAlwaysOrPublicIsClean() {
    #expect(Self.rules(Self.lint(Self.pod(image: "registry.corp.example/app:1", pullSecrets: true))) == [])
    #expect(Self.rules(Self.lint(Self.pod(image: "registry.corp.example/app:1", policy: "Always"))) == [])
    for image in ["nginx:1", "registry.k8s.io/pause:3.9", "quay.io/prometheus/node-exporter:v1", "gcr.io/distroless/static:nonroot"] {
      #expect(Self.rules(Self.lint(Self.pod(image: image))) == [], "\(image)")
    }
    // gcr.io outside distroless is not a public registry.
    #expect(Self.rules(Self.lint(Self.pod(image: "gcr.io/my-project/app:1"))) == ["private-image-without-credentials"])
  }

  static func config(_ directory: TemporaryDirectory) throws -> PullwardenConfig {
    directory.write("node.json", "{\"auths\":{}}")
    let text = """
      recordsDir: records
      sources:
        - name: corp
          type: dockerConfig
          matchImages: ["*.corp.example"]
          path: node.json
        - name: team-token
          type: passthrough
          matchImages: ["registry.corp.example/team"]
          username: token
      """
    return try PullwardenConfig.parse(Array(text.utf8), path: directory.path + "/config.yaml")
  }

  @Test func configSourcesCoverAndAreNamed() throws {
    let directory = TemporaryDirectory()
    let config = try Self.config(directory)
    let covered = Self.lint(Self.pod(image: "registry.corp.example/team/app:1"), config: config)
    #expect(Self.rules(covered) == [])
    #expect(covered.containers.first?.servedBy == ["corp", "team-token"])
    #expect(covered.text().contains("note: image \"registry.corp.example/team/app:1\" is served by \"corp\", \"team-token\""))
    let missed = Self.lint(Self.pod(image: "other.example/app:1"), config: config)
    #expect(Self.rules(missed) == ["private-image-without-credentials"])
    #expect(missed.reported.first?.message.contains("no source in \(directory.path)/config.yaml serves it") == true)
  }

  @Test func serviceAccountPullSecretsCoverItsPods() {
    let account = "kind: ServiceAccount\nmetadata: {name: builder, namespace: ci}\nimagePullSecrets: [{name: corp}]\n"
    func pod(_ namespace: String, _ account: String?) -> String {
      "kind: Pod\nmetadata: {name: p, namespace: \(namespace)}\nspec:\n"
        + (account.map { "  serviceAccountName: \($0)\n" } ?? "") + "  containers: [{name: c, image: \"registry.corp.example/app:1\"}]\n"
    }
    var linter = Linter(config: nil)
    linter.lint(Array(pod("ci", "builder").utf8), file: "pod.yaml")  // read before the account: order does not matter
    linter.lint(Array(account.utf8), file: "account.yaml")
    linter.lint(Array((pod("ci", nil) + "---\n" + pod("other", "builder")).utf8), file: "others.yaml")
    let report = linter.makeReport()
    #expect(report.reported.map(\.container.file) == ["others.yaml", "others.yaml"])
    #expect(report.objects == 3)
  }

  // MARK: Silencing

  @Test func annotationSuppressesAndCounts() {
    let report = Self.lint(Self.pod(image: "nginx", annotations: "latest-tag-without-policy"))
    #expect(Self.rules(report) == [])
    #expect(report.suppressed.map(\.rule) == [.latestTagWithoutPolicy])
    #expect(report.exitCode == 0)
    #expect(report.summary().contains("1 suppressed (latest-tag-without-policy 1)"))
  }

  @Test func annotationCanNameOneContainer() {
    let text = """
      kind: Deployment
      metadata:
        name: d
      spec:
        template:
          metadata:
            annotations:
              pullwarden.dev/lint-ignore: "all:debug"
          spec:
            containers:
            - {name: app, image: nginx}
            - {name: debug, image: busybox}
      """
    let report = Self.lint(text)
    #expect(report.reported.map(\.container.containerName) == ["app"])
    #expect(report.suppressed.map(\.container.containerName) == ["debug"])
  }

  @Test func ignoreAnnotationParsing() {
    let parsed = ManifestReader.parseIgnore(" always-on-digest , latest-tag-without-policy:web,typo-rule,, ")
    #expect(parsed.ignores == [.init(rule: "always-on-digest"), .init(rule: "latest-tag-without-policy", container: "web")])
    #expect(parsed.unknown == ["typo-rule"])
    let report = Self.lint(Self.pod(image: "nginx:1", annotations: "typo-rule"))
    #expect(report.warnings.count == 1)
    #expect(report.warnings.first?.contains("unknown rule \"typo-rule\" (") == true)
    #expect(report.warnings.first?.contains("m.yaml:7:33") == true)
  }

  // MARK: Reading manifests

  @Test func everyKindAndContainerList() {
    var text = ""
    let lists = ["initContainers", "containers", "ephemeralContainers"]
    func containers(_ indent: String) -> String {
      lists.map { indent + "\($0): [{name: c, image: nginx}]\n" }.joined()
    }
    let bodies: [(String, String)] =
      [
        ("Pod", "spec:\n" + containers("  ")), ("PodTemplate", "template:\n  spec:\n" + containers("    ")),
        ("CronJob", "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n" + containers("          ")),
      ]
      + ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"].map {
        ($0, "spec:\n  template:\n    spec:\n" + containers("      "))
      }
    for (kind, body) in bodies { text += "---\nkind: \(kind)\nmetadata: {name: x}\n" + body }
    text += "---\nkind: Service\nmetadata: {name: s}\n"
    let report = Self.lint(text)
    #expect(report.errors.isEmpty, "\(report.errors)")
    #expect(report.objects == 9)
    #expect(report.containers.count == 27)
    #expect(Set(report.reported.map(\.container.objectKind)).count == 9)
  }

  @Test func listItemsAndJSONPositions() {
    let json = """
      {"kind": "List", "items": [
        {"kind": "Pod", "metadata": {"name": "a"},
         "spec": {"containers": [{"name": "c", "image": "nginx"}]}}]}
      """
    let report = Self.lint(json, file: "list.json")
    #expect(report.reported.map(\.container.path.description) == ["items[0].spec.containers[0]"])
    #expect(report.reported.first?.line == 3)
    #expect(report.reported.first?.column == 51)
    let compact = Self.lint("{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"image\":\"nginx\"}]}}", file: "c.json")
    #expect(compact.reported.first?.line == 1)
    #expect(compact.reported.first?.column == 46)
  }

  @Test func brokenDocumentCostsOnlyItself() {
    let text = Self.pod(image: "nginx") + "---\nkind: Pod\nspec: [\n---\n" + Self.pod(image: "busybox")
    let report = Self.lint(text)
    #expect(report.reported.count == 2)
    #expect(report.reported.map(\.line) == [9, 22])
    #expect(report.errors.count == 1)
    #expect(report.errors.first?.description.contains("m.yaml:13:1") == true, "\(report.errors)")
    #expect(report.exitCode == 2)
  }

  @Test func documentMarkersSplitOnlyAtLineStarts() {
    let chunks = ManifestChunk.split(Array("a: 1\n---\nb: |\n  --- not a marker\n--- # c\nc: 3\n----\n".utf8))
    #expect(chunks.map(\.firstLine) == [1, 2, 5])
    #expect(ManifestChunk.split(Array("---\na: 1\n".utf8)).map(\.firstLine) == [1])
    #expect(ManifestChunk.split([]).count == 1)
  }

  @Test func invalidFieldsAreErrorsWithPositions() {
    let report = Self.lint(Self.pod(image: "nginx", policy: "always"))
    #expect(report.errors.first?.description.contains("imagePullPolicy must be Always, IfNotPresent or Never, found \"always\"") == true)
    #expect(report.errors.first?.description.contains("m.yaml:10:22") == true, "\(report.errors)")
    let wrongType = Self.lint("kind: Pod\nspec:\n  containers:\n  - image: 5\n")
    #expect(wrongType.errors.first?.description == "\"image\" must be a string, found number (m.yaml:4:12, at spec.containers[0].image)")
    let noKind = Self.lint("metadata: {}\n")
    #expect(noKind.errors.first?.description.contains("not a Kubernetes object") == true)
  }

  @Test func invalidImageIsAWarning() {
    let report = Self.lint(Self.pod(image: "Nginx:1"))
    #expect(report.containers.isEmpty)
    #expect(report.warnings.first?.contains("InvalidImageName") == true)
  }

  @Test func limitsAreNamed() {
    let many = String(repeating: "---\n{}\n", count: LintLimits.documentsPerFile + 1)
    #expect(Self.lint(many).errors.first?.description.contains("more than 10000 documents") == true)
    // Aliases make a small file hold many containers: the count stops it, not the bytes.
    let pods = "kind: List\nitems:\n- &p {kind: Pod, spec: {containers: [" + Array(repeating: "{image: \"nginx:1\"}", count: 1_000).joined(separator: ", ")
      + "]}}\n" + String(repeating: "- *p\n", count: 150) + "---\nkind: Pod\nspec: {containers: [{image: nginx}]}\n"
    let aliased = Self.lint(pods)
    #expect(aliased.containers.isEmpty)
    #expect(aliased.errors.map(\.what) == ["file holds more than 100000 containers (the lint limit for one file); the rest of it is not read"])
    let big = [UInt8](repeating: 0x20, count: LintLimits.fileSize + 1)
    var linter = Linter(config: nil)
    linter.lint(big, file: "big.yaml")
    #expect(linter.makeReport().errors.first?.description.contains("larger than 8 MiB") == true)
  }

  @Test func directoriesAreWalkedSafely() throws {
    let directory = TemporaryDirectory()
    directory.write("b/two.yml", Self.pod(image: "busybox"))
    directory.write("a.yaml", Self.pod(image: "nginx"))
    directory.write("notes.txt", "kind: Pod")
    directory.write(".hidden/x.yaml", Self.pod(image: "nginx"))
    #expect(mkfifo(directory.path + "/fifo.yaml", 0o600) == 0)
    #expect(symlink(directory.path, directory.path + "/b/loop") == 0)
    #expect(symlink(directory.path + "/a.yaml", directory.path + "/c.yaml") == 0)
    var linter = Linter(config: nil)
    linter.lint(path: directory.path) { [] }
    let files = linter.makeReport().reported.map { String($0.container.file.dropFirst(directory.path.count + 1)) }
    #expect(files == ["a.yaml", "b/two.yml", "c.yaml"])
    #expect(linter.makeReport().warnings.contains { $0.contains("fifo.yaml\": not a regular file") })
    #expect(linter.makeReport().errors.isEmpty)

    var direct = Linter(config: nil)
    direct.lint(path: directory.path + "/fifo.yaml") { [] }
    #expect(direct.makeReport().errors.first?.description.contains("found a FIFO") == true)
    direct.lint(path: directory.path + "/missing.yaml") { [] }
    #expect(direct.makeReport().errors.last?.description.contains("no such file or directory") == true)
  }

  @Test func stdinIsNamedStdin() {
    var linter = Linter(config: nil)
    linter.lint(path: "-") { Array(Self.pod(image: "nginx").utf8) }
    #expect(linter.makeReport().reported.first?.container.file == "stdin")
  }

  // MARK: Formats

  @Test func textLineFormat() {
    let report = Self.lint(Self.pod(image: "nginx"))
    let lines = report.text().split(separator: "\n")
    #expect(lines.first?.hasPrefix("m.yaml:9:12: latest-tag-without-policy: container \"app\": image \"nginx\" has no tag") == true)
    #expect(lines.first?.hasSuffix("(Pod ns/p, spec.containers[0])") == true)
    #expect(lines.last == "1 finding (latest-tag-without-policy 1); 1 container in 1 object, 1 file")
  }

  @Test func jsonFieldsAreStable() throws {
    let report = Self.lint(Self.pod(image: "nginx"))
    guard case .object(let root) = report.json() else { throw Failure("not an object") }
    #expect(root.keys == ["findings", "suppressed", "containers", "errors", "summary", "config"])
    guard case .array(let findings)? = root["findings"], case .object(let finding)? = findings.first else { throw Failure("no finding") }
    #expect(finding.keys == ["rule", "message", "file", "line", "column", "kind", "namespace", "name", "container", "path", "image", "imagePullPolicy"])
    #expect(finding["line"] == .integer(9))
  }

  /// SARIF 2.1.0's required properties (sarif-schema-2.1.0.json): sarifLog {version, runs}, run
  /// {tool}, tool {driver}, toolComponent {name}, reportingDescriptor {id}, result {message},
  /// message {text}, region line/column ≥ 1, suppression {kind} from its enum.
  @Test func sarifHasTheRequiredStructure() throws {
    let report = Self.lint(Self.pod(image: "registry.corp.example/app:latest" + Self.digest, policy: "Always", annotations: "private-image-without-credentials") + "---\n" + Self.pod(image: "nginx", annotations: "latest-tag-without-policy"))
    let sarif = report.sarif(toolVersion: "1.2.3")
    let reparsed = try JSON.parse(JSON.encode(sarif), document: "sarif", kind: .output)
    guard case .object(let log) = reparsed else { throw Failure("sarifLog") }
    #expect(log["version"] == .string("2.1.0"))
    guard case .array(let runs)? = log["runs"], runs.count == 1, case .object(let run) = runs[0] else { throw Failure("runs") }
    guard case .object(let tool)? = run["tool"], case .object(let driver)? = tool["driver"] else { throw Failure("tool.driver") }
    #expect(driver["name"] == .string("pullwarden"))
    guard case .array(let rules)? = driver["rules"] else { throw Failure("rules") }
    #expect(rules.count == LintRule.allCases.count)
    for case .object(let rule) in rules {
      guard case .string(let id)? = rule["id"] else { throw Failure("rule id") }
      #expect(rule["helpUri"] == .string("docs/lint.md#\(id)"))
    }
    guard case .array(let results)? = run["results"] else { throw Failure("results") }
    #expect(results.count == 2)
    for case .object(let result) in results {
      guard case .object(let message)? = result["message"], case .string? = message["text"] else { throw Failure("message.text") }
      guard case .string(let ruleId)? = result["ruleId"], case .integer(let index)? = result["ruleIndex"] else { throw Failure("ruleId") }
      #expect(LintRule.allCases[Int(index)].rawValue == ruleId)
      guard case .array(let locations)? = result["locations"], case .object(let location)? = locations.first,
        case .object(let physical)? = location["physicalLocation"], case .object(let artifact)? = physical["artifactLocation"],
        case .object(let region)? = physical["region"], case .integer(let line)? = region["startLine"],
        case .integer(let column)? = region["startColumn"]
      else { throw Failure("physicalLocation") }
      #expect(artifact["uri"] == .string("m.yaml"))
      #expect(line >= 1 && column >= 1)
      if case .array(let suppressions)? = result["suppressions"] {
        for case .object(let suppression) in suppressions {
          #expect(suppression["kind"] == .string("inSource"))
        }
        #expect(ruleId == "latest-tag-without-policy")
      }
    }
    #expect(LintReport.uriReference("dir/a b%.yaml") == "dir/a%20b%25.yaml")
  }

  struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
  }
}
