/// One problem `config check` found: an error (provide would fail, or the kubelet would) or a warning
/// (it works, but not as the operator probably meant), with where it is and how to fix it.
public struct ConfigFinding: Sendable, Equatable {
  public enum Severity: String, Sendable { case error, warning }

  public var severity: Severity
  /// A stable name for automation (`missing-file`, `bare-wildcard`, …); the README lists them all.
  public var code: String
  public var message: String
  public var file: String?
  public var line: Int?
  public var fix: String?

  /// `file:line: ` or `file: ` or nothing.
  var place: String {
    guard let file else { return "" }
    return line.map { "\(file):\($0): " } ?? "\(file): "
  }
}

/// Everything `config check` found in one config (and, given, the kubelet's CredentialProviderConfig).
public struct ConfigCheckReport: Sendable {
  public var configPath: String
  /// The kubelet's CredentialProviderConfig checked against it, if one was given.
  public var kubeletConfigPath: String?
  /// The loaded config; nil when it could not be loaded.
  public var config: PullwardenConfig?
  public var findings: [ConfigFinding] = []
  /// A note on the records directory (`will be created`), shown in the summary.
  public var recordsNote: String?

  public var errors: [ConfigFinding] { findings.filter { $0.severity == .error } }
  public var warnings: [ConfigFinding] { findings.filter { $0.severity == .warning } }

  /// 0 clean (warnings allowed), 1 warnings only with `strict`, 2 errors.
  public func exitCode(strict: Bool) -> Int32 {
    if !errors.isEmpty { return 2 }
    return strict && !warnings.isEmpty ? 1 : 0
  }

  mutating func add(
    _ severity: ConfigFinding.Severity, _ code: String, _ message: String, file: String?, line: Int? = nil, fix: String?
  ) {
    findings.append(ConfigFinding(severity: severity, code: code, message: message, file: file, line: line, fix: fix))
  }

  mutating func error(_ code: String, _ message: String, file: String?, line: Int? = nil, fix: String?) {
    add(.error, code, message, file: file, line: line, fix: fix)
  }

  mutating func warning(_ code: String, _ message: String, file: String?, line: Int? = nil, fix: String?) {
    add(.warning, code, message, file: file, line: line, fix: fix)
  }

  // MARK: Output

  /// The summary (sources, the kubelet tokenAttributes each token source needs), then one
  /// `error:`/`warning:` line per finding with its fix.
  public func text() -> String {
    var lines: [String] = []
    let errorCount = errors.count, warningCount = warnings.count
    func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
    if errorCount > 0 {
      lines.append("config \(configPath) has \(count(errorCount, "error"))" + (warningCount > 0 ? " and \(count(warningCount, "warning"))" : ""))
    } else {
      lines.append("config \(configPath) is valid" + (warningCount > 0 ? ", with \(count(warningCount, "warning"))" : ""))
    }
    if let config {
      lines.append("records directory: \(config.recordsDirectory)" + (recordsNote.map { " (\($0))" } ?? ""))
      for source in config.sources {
        let common = source.common
        lines.append(
          "source \(common.name): type \(source.typeName), cacheKeyType \(common.cacheKeyType.rawValue), cacheDuration \(common.cacheDuration), matchImages \(common.matchImages.map(\.text).joined(separator: ", "))"
        )
        if let tokenSource = source as? any ServiceAccountTokenSource {
          lines.append("  kubelet tokenAttributes: " + tokenSource.kubeletTokenAttributes.summary)
        }
      }
      if let cache = config.credentialCache {
        lines.append("credential cache: \(cache.directory), keyed by \(cache.keying.rawValue), refreshed \(cache.refreshBefore) before expiry")
      }
    }
    for finding in findings {
      lines.append("\(finding.severity.rawValue): \(finding.place)\(finding.message) [\(finding.code)]")
      if let fix = finding.fix { lines.append("  fix: \(fix)") }
    }
    return lines.map { Escaping.line($0) + "\n" }.joined()
  }

  /// `{"config", "valid", "errors", "warnings", "sources", "recordsDir", "credentialCache"}`.
  public var json: JSONValue {
    func entry(_ finding: ConfigFinding) -> JSONValue {
      .object([
        "code": .string(finding.code), "message": .string(finding.message), "file": finding.file.map { .string($0) } ?? .null,
        "line": finding.line.map { .integer(Int64($0)) } ?? .null, "fix": finding.fix.map { .string($0) } ?? .null,
      ])
    }
    var object: JSONObject = [
      "config": .string(configPath), "kubeletConfig": kubeletConfigPath.map { .string($0) } ?? .null, "valid": .bool(errors.isEmpty), "errors": .array(errors.map(entry)),
      "warnings": .array(warnings.map(entry)),
    ]
    object["sources"] = .array(
      (config?.sources ?? []).map { source in
        let common = source.common
        var entry: JSONObject = [
          "name": .string(common.name), "type": .string(source.typeName), "cacheKeyType": .string(common.cacheKeyType.rawValue),
          "cacheDuration": .string(common.cacheDuration.description), "matchImages": .array(common.matchImages.map { .string($0.text) }),
        ]
        entry["kubeletTokenAttributes"] = (source as? any ServiceAccountTokenSource).map { $0.kubeletTokenAttributes.json } ?? .null
        return .object(entry)
      })
    object["recordsDir"] = config.map { .string($0.recordsDirectory) } ?? .null
    object["credentialCache"] = config?.credentialCache.map { .string($0.directory) } ?? .null
    return .object(object)
  }
}

extension KubeletTokenAttributes {
  /// What the kubelet's CredentialProviderConfig must say for a token source, on one line.
  public var summary: String {
    let note: String
    if cacheTypeIsRequired {
      note = " (required)"
    } else {
      note = cacheType == "Token" ? " (or ServiceAccount if the credential depends only on the service account)" : " (or Token, to cache per pod)"
    }
    var parts = [
      "serviceAccountTokenAudience \(serviceAccountTokenAudience ?? "<the audience your token service expects>")",
      "cacheType \(cacheType)\(note)", "requireServiceAccount \(requireServiceAccount)",
    ]
    if !requiredAnnotationKeys.isEmpty { parts.append("requiredServiceAccountAnnotationKeys [\(requiredAnnotationKeys.joined(separator: ", "))]") }
    if !optionalAnnotationKeys.isEmpty { parts.append("optionalServiceAccountAnnotationKeys [\(optionalAnnotationKeys.joined(separator: ", "))]") }
    return parts.joined(separator: ", ")
  }

  var json: JSONValue {
    .object([
      "serviceAccountTokenAudience": serviceAccountTokenAudience.map { .string($0) } ?? .null, "cacheType": .string(cacheType),
      "cacheTypeIsRequired": .bool(cacheTypeIsRequired), "requireServiceAccount": .bool(requireServiceAccount),
      "requiredServiceAccountAnnotationKeys": .array(requiredAnnotationKeys.map { .string($0) }),
      "optionalServiceAccountAnnotationKeys": .array(optionalAnnotationKeys.map { .string($0) }),
    ])
  }
}

/// `pullwarden config check`: loads the config as provide does, then looks for what would fail later
/// (files provide reads, directories it writes, the kubelet's side) and for patterns that will surprise.
/// Every problem is reported, not only the first. It creates nothing that stays: the write probes
/// remove what they create.
public enum ConfigCheck {
  public static let kubeletConfigGivenMessage =
    "this is the kubelet's CredentialProviderConfig; pass it as --kubelet-config and Pullwarden's own config as --config"

  /// Checks the config at `configPath`; with `kubeletConfigPath`, also the kubelet's
  /// CredentialProviderConfig against it, expecting the binary to be installed as `binaryName`.
  public static func run(configPath: String, kubeletConfigPath: String? = nil, binaryName: String = "pullwarden") -> ConfigCheckReport {
    var report = ConfigCheckReport(configPath: configPath, kubeletConfigPath: kubeletConfigPath)
    guard let (config, document) = load(configPath, into: &report) else { return report }
    report.config = config
    var checker = Checker(config: config, document: document, report: report)
    checker.checkPatterns()
    checker.checkFiles()
    checker.checkDynamicSibling()
    checker.checkSourceRelations()
    checker.checkDirectories()
    if let kubeletConfigPath {
      KubeletConfigCheck(checker: checker, path: kubeletConfigPath, binaryName: binaryName).run(into: &checker.report)
    }
    return checker.report
  }

  /// The config and its document (for line numbers), or nil with the error reported.
  static func load(_ path: String, into report: inout ConfigCheckReport) -> (PullwardenConfig, Document)? {
    let bytes: [UInt8]
    do {
      bytes = try FileIO.readFile(path, limit: PullwardenConfig.sizeLimit, trusted: true)
    } catch {
      FileProblem(error, path: path).report(into: &report, what: "config file", setting: nil)
      return nil
    }
    do {
      let document = try YAMLLoader.document(bytes, name: path, kind: .config, schema: .core)
      if isKubeletConfig(document) {
        report.error(
          "kubelet-config-given", kubeletConfigGivenMessage, file: path,
          fix: "pullwarden config check --config /etc/pullwarden/config.yaml --kubelet-config \(path)")
        return nil
      }
      return (try PullwardenConfig.parse(bytes, path: path), document)
    } catch {
      let (message, line) = locate(error, in: path)
      report.error(
        "config-invalid", message, file: path, line: line,
        fix: "correct the config where the error points; provide refuses every request until it loads (README, Configuration reference)")
      return nil
    }
  }

  /// Whether a document is the kubelet's CredentialProviderConfig rather than Pullwarden's config.
  static func isKubeletConfig(_ document: Document) -> Bool {
    guard case .object(let root) = document.root else { return false }
    return root["kind"]?.stringValue == "CredentialProviderConfig" || root["apiVersion"]?.stringValue?.hasPrefix("kubelet.config.k8s.io/") == true
  }

  /// An error about `file` as a finding's message and line: a location such as
  /// `/etc/p.yaml:5:3, at sources[0].type` gives line 5 and keeps `at sources[0].type` in the message
  /// (JSON has no lines, so the path is all there is); a location elsewhere is kept whole.
  static func locate(_ error: PullwardenError, in file: String) -> (message: String, line: Int?) {
    guard let location = error.location, !location.isEmpty else { return (error.what, nil) }
    guard location.hasPrefix(file) else { return ("\(error.what) (\(location))", nil) }
    var rest = location.dropFirst(file.count)
    var line: Int?
    if rest.first == ":" {
      line = Int(rest.dropFirst().prefix { $0.isASCIIDigit })
      rest = rest.drop { $0 == ":" || $0.isASCIIDigit }
    }
    if rest.hasPrefix(", ") { rest = rest.dropFirst(2) }
    return (rest.isEmpty ? error.what : "\(error.what) (\(rest))", line)
  }
}

/// The checks on one loaded config; each adds its findings to `report`.
struct Checker {
  let config: PullwardenConfig
  let document: Document
  var report: ConfigCheckReport
  /// Registry keys found in each file-backed source's files, by source name (for the port check).
  var keysBySource: [String: [(key: RegistryKey, file: String)]] = [:]

  var file: String { config.path }

  /// The line of the value at `path` in the config, when it is YAML.
  func line(_ path: JSONPath) -> Int? { document.line(path) }

  func sourcePath(_ index: Int) -> JSONPath { JSONPath.root.appending("sources").appending(index) }
  func patternLine(_ source: Int, _ pattern: Int) -> Int? { line(sourcePath(source).appending("matchImages").appending(pattern)) }
  func settingLine(_ source: Int, _ key: String) -> Int? { line(sourcePath(source).appending(key)) }

  // MARK: Patterns

  mutating func checkPatterns() {
    for (sourceIndex, source) in config.sources.enumerated() {
      for (index, pattern) in source.common.matchImages.enumerated() {
        for problem in PatternAdvice.problems(pattern) {
          report.warning(
            problem.code, "source \(quoted: source.common.name): \(problem.message)", file: file, line: patternLine(sourceIndex, index),
            fix: problem.fix)
        }
      }
    }
  }

  /// A pattern without the port the source's own registry keys use: its images never match.
  mutating func checkPorts() {
    for (sourceIndex, source) in config.sources.enumerated() {
      let patterns = source.common.matchImages
      for (key, keyFile) in keysBySource[source.common.name] ?? [] where !URLLocation(key.text).port.isEmpty {
        if patterns.contains(where: { $0.matchesRegistry(of: URLLocation(key.text)) }) { continue }
        guard let index = patterns.firstIndex(where: { $0.differsOnlyInPort(from: key) }) else { continue }
        let pattern = patterns[index]
        report.warning(
          "missing-port",
          "source \(quoted: source.common.name): pattern \(quoted: pattern.text) has \(pattern.location.port.isEmpty ? "no port" : "port \(pattern.location.port)"), but \(keyFile) has credentials for \(quoted: key.text): images from \(URLLocation(key.text).authority) never match the pattern (ports must be equal, and no port is a value of its own)",
          file: file, line: patternLine(sourceIndex, index), fix: "add \(quoted: pattern.withPort(of: key)) to matchImages")
      }
    }
  }

  // MARK: Sources against each other

  mutating func checkSourceRelations() {
    checkPorts()
    let sources = config.sources
    for (later, source) in sources.enumerated() {
      for earlier in sources.indices where earlier < later {
        let first = sources[earlier]
        guard Self.sameCredentials(first, source),
          source.common.matchImages.allSatisfy({ inner in first.common.matchImages.contains { $0.covers(inner) } })
        else { continue }
        report.warning(
          "shadowed-source",
          "source \(quoted: source.common.name) is shadowed by \(quoted: first.common.name): the earlier source serves every image it serves (its matchImages cover them all) from the same credentials, so it only repeats them (exact repeats are dropped) and its settings never matter",
          file: file, line: line(sourcePath(later)),
          fix: "remove source \(quoted: source.common.name), or give it other credentials or images")
        break
      }
    }
    for (nodeIndex, node) in sources.enumerated() where node is DockerConfigSource {
      for secret in sources where secret is SecretFilesSource || secret is KubernetesSecretsSource {
        for (patternIndex, nodePattern) in node.common.matchImages.enumerated() {
          guard let secretPattern = secret.common.matchImages.first(where: { nodePattern.overlaps($0) }) else { continue }
          report.warning(
            "node-wide-overlap",
            "source \(quoted: node.common.name) is node-wide (dockerConfig) and its pattern \(quoted: nodePattern.text) overlaps \(quoted: secretPattern.text) of Secret source \(quoted: secret.common.name): an image both serve is recorded with the node's credential as nodePodsAccessible, so any pod on the node may use it without the team's Secret",
            file: file, line: patternLine(nodeIndex, patternIndex),
            fix: "narrow \(quoted: node.common.name)'s matchImages to registries no Secret source serves (or move those logins into Secrets)")
        }
      }
    }
  }

  /// Whether two sources of the same type hand out the same credentials for an image both serve:
  /// the same file, directory or token settings. Conservative: anything else may differ.
  static func sameCredentials(_ a: any CredentialSource, _ b: any CredentialSource) -> Bool {
    switch (a, b) {
    case let (a as DockerConfigSource, b as DockerConfigSource):
      return a.path == b.path && a.format == b.format
    case let (a as SecretFilesSource, b as SecretFilesSource):
      return a.directory == b.directory
    case let (a as PassthroughSource, b as PassthroughSource):
      return a.token.username == b.token.username && a.token.tokenAudience == b.token.tokenAudience
        && a.token.withoutToken == b.token.withoutToken && a.token.requiredAnnotations.isEmpty && b.token.requiredAnnotations.isEmpty
        && a.token.annotationsToConfig.isEmpty && b.token.annotationsToConfig.isEmpty
    default:
      return false
    }
  }
}

/// Patterns that parse but will not do what they seem to: each with the reason and what to write.
enum PatternAdvice {
  struct Problem {
    var code: String
    var message: String
    var fix: String
  }

  static func problems(_ pattern: ImagePattern) -> [Problem] {
    var problems: [Problem] = []
    let text = pattern.text
    if pattern.hostLabels == ["*"] {
      problems.append(
        Problem(
          code: "bare-wildcard",
          message: "pattern \(quoted: text) matches only one-label registry hosts such as \"localhost\": a glob never crosses a dot, so it matches neither \"docker.io\" nor \"registry.example.com\"",
          fix: "name the registries, or list \"*\", \"*.*\", \"*.*.*\" to match any registry host"))
    }
    if pattern.host.lowercased() == "index.docker.io" {
      let better = "docker.io" + (pattern.location.port.isEmpty ? "" : ":" + pattern.location.port) + pattern.path
      problems.append(
        Problem(
          code: "index-docker-io",
          message: "pattern \(quoted: text) never matches: the kubelet normalises Docker Hub images to \"docker.io/...\" (nginx is docker.io/library/nginx)",
          fix: "write \(quoted: better)"))
    }
    if text.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) {
      problems.append(
        Problem(
          code: "upper-case",
          message: "pattern \(quoted: text) has upper case: matching is case-sensitive and image names are lower case (repository paths must be), so it never matches",
          fix: "write \(quoted: text.lowercased())"))
    }
    if let lastComponent = pattern.path.split(separator: "/").last, let colon = lastComponent.firstIndex(of: ":") {
      let withoutTag = pattern.hostAndPort + pattern.path.dropLast(lastComponent.distance(from: colon, to: lastComponent.endIndex))
      problems.append(
        Problem(
          code: "tag-or-digest",
          message: "pattern \(quoted: text) has a tag or digest: the kubelet matches the image name without its tag or digest, so it never matches",
          fix: "write \(quoted: String(withoutTag))"))
    }
    return problems
  }
}
