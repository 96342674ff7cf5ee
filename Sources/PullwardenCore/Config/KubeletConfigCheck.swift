#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `config check --kubelet-config FILE`: the kubelet's CredentialProviderConfig against Pullwarden's
/// config. The kubelet decides whether Pullwarden is called at all (matchImages), under which name
/// (the binary in its bin dir), with which config (args), and with which token (tokenAttributes);
/// a mismatch there fails pulls without Pullwarden ever seeing them.
struct KubeletConfigCheck {
  let checker: Checker
  let path: String
  let binaryName: String

  static let tokenAPIVersion = "credentialprovider.kubelet.k8s.io/v1"
  static let apiVersions = ["credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1beta1", "credentialprovider.kubelet.k8s.io/v1alpha1"]

  /// One `providers[]` entry, as far as the checks need it.
  struct Provider {
    var index: Int
    var name: String
    var apiVersion: String
    var args: [String]
    var matchImages: [ImagePattern]
    var defaultCacheDuration: GoDuration?
    var tokenAttributes: ObjectReader?
    var reader: ObjectReader
  }

  var config: PullwardenConfig { checker.config }

  func run(into report: inout ConfigCheckReport) {
    let document: Document
    do {
      let bytes = try readKubeletConfig()
      document = try YAMLLoader.document(bytes, name: path, kind: .config, schema: .kubernetes)
    } catch {
      let (message, line) = ConfigCheck.locate(error, in: path)
      report.error("kubelet-config-invalid", message, file: path, line: line, fix: "correct the kubelet's CredentialProviderConfig; the kubelet refuses to start with it")
      return
    }
    guard case .object(let root) = document.root else {
      report.error("kubelet-config-invalid", "the kubelet's CredentialProviderConfig must be an object", file: path, fix: nil)
      return
    }
    if root["kind"]?.stringValue == PullwardenConfig.kind || root["sources"] != nil {
      report.error(
        "kubelet-config-invalid", "this is a Pullwarden config, not the kubelet's CredentialProviderConfig: pass it as --config", file: path,
        fix: "pass the file given to the kubelet's --image-credential-provider-config as --kubelet-config")
      return
    }
    let providers: [Provider]
    do {
      providers = try readProviders(document)
    } catch {
      let (message, line) = ConfigCheck.locate(error, in: path)
      report.error("kubelet-config-invalid", message, file: path, line: line, fix: "correct the kubelet's CredentialProviderConfig; the kubelet refuses to start with it")
      return
    }
    func line(_ provider: Provider, _ key: String? = nil) -> Int? {
      let at = key.map { provider.reader.path.appending($0) } ?? provider.reader.path
      return document.line(at)
    }

    // Which providers run Pullwarden with this config: by their args, else by name.
    let configured = normalized(config.path)
    var ours = providers.filter { $0.configArgument.map(normalized) == configured }
    let foundByArgs = !ours.isEmpty
    if ours.isEmpty { ours = providers.filter { $0.name == binaryName || $0.name == "pullwarden" } }
    guard !ours.isEmpty else {
      report.error(
        "kubelet-provider-missing",
        "no provider in the kubelet's CredentialProviderConfig runs Pullwarden with \(absolute(config.path)) (none has args [\"provide\", \"--config\", \(quoted: absolute(config.path))] or the name \(quoted: binaryName))",
        file: path, fix: "add a provider named \(quoted: binaryName) with args [\"provide\", \"--config\", \(quoted: absolute(config.path))]")
      return
    }

    for provider in ours {
      let name = Escaping.quoted(provider.name)
      if ours.count == 1, provider.name != binaryName {
        report.error(
          "kubelet-provider-name",
          "provider \(name) makes the kubelet run <bin-dir>/\(provider.name), but this binary is installed as \(quoted: binaryName)",
          file: path, line: line(provider, "name"),
          fix: "name the provider \(quoted: binaryName), or install (or symlink) the binary as \(provider.name) in the kubelet's --image-credential-provider-bin-dir (pass --binary-name if it is installed under another name)")
      }
      if !foundByArgs || provider.configArgument == nil {
        let found = provider.args.isEmpty ? "no args" : "args [\(provider.args.map { Escaping.quoted($0) }.joined(separator: ", "))]"
        report.error(
          "kubelet-args", "provider \(name) has \(found), which do not run \"provide --config \(absolute(config.path))\"", file: path, line: line(provider, "args"),
          fix: "set args: [\"provide\", \"--config\", \(quoted: absolute(config.path))]")
      } else if let argument = provider.configArgument, !argument.hasPrefix("/") {
        report.warning(
          "kubelet-args-relative", "provider \(name) names the config by a relative path \(quoted: argument): the kubelet runs Pullwarden in its own working directory",
          file: path, line: line(provider, "args"), fix: "use the absolute path \(quoted: absolute(config.path))")
      }
      checkDurations(provider, line: line(provider, "defaultCacheDuration"), into: &report)
      for (index, pattern) in provider.matchImages.enumerated() {
        for problem in PatternAdvice.problems(pattern) {
          report.warning(
            problem.code, "provider \(name): \(problem.message)", file: path,
            line: document.line(provider.reader.path.appending("matchImages").appending(index)), fix: problem.fix)
        }
      }
      if provider.tokenAttributes != nil, provider.apiVersion != Self.tokenAPIVersion {
        report.error(
          "kubelet-api-version", "provider \(name) sets tokenAttributes with apiVersion \(quoted: provider.apiVersion): the kubelet accepts tokenAttributes only with \(Self.tokenAPIVersion) and refuses to start",
          file: path, line: line(provider, "apiVersion"), fix: "set apiVersion: \(Self.tokenAPIVersion)")
      }
      if let attributes = provider.tokenAttributes, !attributes.contains("cacheType") {
        report.error(
          "kubelet-cache-type-missing", "provider \(name) sets tokenAttributes without cacheType, which kubelet 1.34 and later require (the kubelet refuses to start)",
          file: path, line: line(provider, "tokenAttributes"), fix: "add cacheType: \(tokenSourcesServed(by: provider).first?.kubeletTokenAttributes.cacheType ?? "ServiceAccount") (Token or ServiceAccount)")
      }
      if let attributes = provider.tokenAttributes {
        checkTokenAttributeValues(provider, attributes, document: document, into: &report)
      }
    }
    checkCoverage(ours, document: document, into: &report)
    checkPorts(ours, document: document, into: &report)
    checkTokenAttributes(ours, document: document, into: &report)
  }

  // MARK: Reading

  private func readKubeletConfig() throws(PullwardenError) -> [UInt8] {
    do {
      return try FileIO.readFile(path, limit: PullwardenConfig.sizeLimit)
    } catch {
      throw PullwardenError(.config, "cannot read the kubelet's CredentialProviderConfig: \(error)", at: path)
    }
  }

  private func readProviders(_ document: Document) throws(PullwardenError) -> [Provider] {
    let root = try document.rootObject(describedAs: "CredentialProviderConfig")
    if let kind = try root.string("kind"), kind != "CredentialProviderConfig" {
      throw root.error("kind is \(quoted: kind), expected \"CredentialProviderConfig\"", at: "kind")
    }
    let configVersions = ["kubelet.config.k8s.io/v1", "kubelet.config.k8s.io/v1beta1", "kubelet.config.k8s.io/v1alpha1"]
    if let apiVersion = try root.string("apiVersion"), !configVersions.contains(apiVersion) {
      throw root.error("unknown apiVersion \(quoted: apiVersion) (expected one of \(configVersions.joined(separator: ", ")))", at: "apiVersion")
    }
    guard let readers = try root.objectArray("providers"), !readers.isEmpty else {
      throw root.error("\"providers\" must list at least one provider", at: "providers")
    }
    var providers: [Provider] = []
    for (index, reader) in readers.enumerated() {
      var patterns: [ImagePattern] = []
      for (patternIndex, text) in (try reader.stringArray("matchImages") ?? []).enumerated() {
        do {
          patterns.append(try ImagePattern(parsing: text))
        } catch {
          throw document.error("invalid matchImages pattern \(quoted: text): \(error)", at: reader.path.appending("matchImages").appending(patternIndex))
        }
      }
      if patterns.isEmpty { throw reader.error("\"matchImages\" must list at least one pattern", at: "matchImages") }
      guard let apiVersion = try reader.string("apiVersion") else {
        throw reader.error("missing required field \"apiVersion\" (\(Self.tokenAPIVersion)): the kubelet refuses to start")
      }
      if !Self.apiVersions.contains(apiVersion) {
        throw reader.error("unknown apiVersion \(quoted: apiVersion) (expected one of \(Self.apiVersions.joined(separator: ", ")))", at: "apiVersion")
      }
      let name = try reader.requiredNonEmptyString("name")
      if providers.contains(where: { $0.name == name }) {
        throw reader.error("duplicate provider name \(quoted: name): the kubelet refuses to start", at: "name")
      }
      providers.append(
        Provider(
          index: index, name: name, apiVersion: apiVersion,
          args: try reader.stringArray("args") ?? [], matchImages: patterns, defaultCacheDuration: try reader.duration("defaultCacheDuration"),
          tokenAttributes: try reader.object("tokenAttributes"), reader: reader))
    }
    return providers
  }

  // MARK: Checks

  /// `defaultCacheDuration` is required by the kubelet; Pullwarden always sends a cacheDuration, so
  /// the value matters only for an answer without one, but a longer one than any source allows would
  /// then keep credentials past their sources' choice.
  private func checkDurations(_ provider: Provider, line: Int?, into report: inout ConfigCheckReport) {
    guard let duration = provider.defaultCacheDuration else {
      report.error(
        "kubelet-default-cache-duration", "provider \(quoted: provider.name) has no defaultCacheDuration, which the kubelet requires (it refuses to start)",
        file: path, line: line, fix: "add defaultCacheDuration: \"\(config.defaultCacheDuration)\"")
      return
    }
    if duration < .zero {
      report.error("kubelet-default-cache-duration", "provider \(quoted: provider.name) has a negative defaultCacheDuration", file: path, line: line, fix: "set defaultCacheDuration: \"\(config.defaultCacheDuration)\"")
      return
    }
    let longest = config.sources.map(\.common.cacheDuration).max() ?? config.defaultCacheDuration
    if duration > longest {
      report.warning(
        "kubelet-default-cache-duration-long",
        "provider \(quoted: provider.name) has defaultCacheDuration \(duration), longer than any source's cacheDuration (at most \(longest)): an answer without cacheDuration would be cached longer than the config allows",
        file: path, line: line, fix: "set defaultCacheDuration: \"\(config.defaultCacheDuration)\" (Pullwarden's defaultCacheDuration)")
    }
  }

  /// Every Pullwarden pattern must be inside some provider pattern: the kubelet calls Pullwarden only
  /// for images its own matchImages match.
  private func checkCoverage(_ providers: [Provider], document: Document, into report: inout ConfigCheckReport) {
    let kubeletPatterns = providers.flatMap(\.matchImages)
    for (sourceIndex, source) in config.sources.enumerated() {
      for (index, pattern) in source.common.matchImages.enumerated() where !kubeletPatterns.contains(where: { $0.covers(pattern) }) {
        let partly = kubeletPatterns.filter { $0.overlaps(pattern) }
        let how = partly.isEmpty
          ? "no pattern of the kubelet's matchImages matches its images"
          : "the kubelet's matchImages (\(partly.map { Escaping.quoted($0.text) }.joined(separator: ", "))) match only some of its images"
        report.error(
          "kubelet-match-images",
          "source \(quoted: source.common.name): pattern \(quoted: pattern.text): \(how), so the kubelet never calls Pullwarden for the others",
          file: config.path, line: checker.patternLine(sourceIndex, index),
          fix: "add \(quoted: pattern.text) to matchImages of provider \(quoted: providers[0].name) in \(path)")
      }
    }
  }

  /// What the kubelet itself validates in `tokenAttributes` (it refuses to start otherwise).
  private func checkTokenAttributeValues(
    _ provider: Provider, _ attributes: ObjectReader, document: Document, into report: inout ConfigCheckReport
  ) {
    let name = Escaping.quoted(provider.name)
    let at = { (key: String) in document.line(attributes.path.appending(key)) ?? document.line(attributes.path) }
    let wanted = tokenSourcesServed(by: provider).first?.kubeletTokenAttributes
    func invalid(_ message: String, _ key: String, fix: String) {
      report.error("kubelet-token-attributes", "provider \(name): \(message) (the kubelet refuses to start)", file: path, line: at(key), fix: fix)
    }
    let audience = (try? attributes.string("serviceAccountTokenAudience")) ?? nil
    if audience == nil || audience == "" {
      invalid(
        "tokenAttributes without serviceAccountTokenAudience", "serviceAccountTokenAudience",
        fix: "set serviceAccountTokenAudience: \(quoted: wanted?.serviceAccountTokenAudience ?? "<the audience your token service expects>")")
    }
    if let cacheType = (try? attributes.string("cacheType")) ?? nil, cacheType != "Token", cacheType != "ServiceAccount" {
      invalid("cacheType \(quoted: cacheType) is neither Token nor ServiceAccount", "cacheType", fix: "set cacheType: \(wanted?.cacheType ?? "ServiceAccount")")
    }
    let requireServiceAccount = (try? attributes.bool("requireServiceAccount")) ?? nil
    if requireServiceAccount == nil {
      invalid("tokenAttributes without requireServiceAccount (true or false)", "requireServiceAccount", fix: "set requireServiceAccount: \(wanted?.requireServiceAccount ?? true)")
    }
    let required = ((try? attributes.stringArray("requiredServiceAccountAnnotationKeys")) ?? nil) ?? []
    if requireServiceAccount == false && !required.isEmpty {
      invalid(
        "requiredServiceAccountAnnotationKeys with requireServiceAccount: false", "requiredServiceAccountAnnotationKeys",
        fix: "set requireServiceAccount: true, or move the keys to optionalServiceAccountAnnotationKeys")
    }
  }

  /// A kubelet pattern with a port whose host a Pullwarden pattern names without it: the kubelet calls
  /// Pullwarden for those images, and no source serves them.
  private func checkPorts(_ providers: [Provider], document: Document, into report: inout ConfigCheckReport) {
    let patterns = config.sources.flatMap(\.common.matchImages)
    for provider in providers {
      for kubeletPattern in provider.matchImages where !kubeletPattern.location.port.isEmpty {
        if patterns.contains(where: { $0.overlaps(kubeletPattern) }) { continue }
        for (sourceIndex, source) in config.sources.enumerated() {
          for (index, pattern) in source.common.matchImages.enumerated() where pattern.differsOnlyInPort(from: kubeletPattern.location) {
            report.warning(
              "missing-port",
              "source \(quoted: source.common.name): pattern \(quoted: pattern.text) has \(pattern.location.port.isEmpty ? "no port" : "port \(pattern.location.port)"), but provider \(quoted: provider.name) sends Pullwarden the images of \(quoted: kubeletPattern.text): they never match it (ports must be equal)",
              file: config.path, line: checker.patternLine(sourceIndex, index),
              fix: "add \(quoted: pattern.withPort(kubeletPattern.location.port)) to matchImages")
          }
        }
      }
    }
  }

  /// Token sources whose patterns meet the provider's.
  private func tokenSourcesServed(by provider: Provider) -> [any ServiceAccountTokenSource] {
    config.sources.compactMap { $0 as? any ServiceAccountTokenSource }.filter { source in
      source.common.matchImages.contains { pattern in provider.matchImages.contains { $0.overlaps(pattern) } }
    }
  }

  private func checkTokenAttributes(_ providers: [Provider], document: Document, into report: inout ConfigCheckReport) {
    for source in config.sources {
      guard let tokenSource = source as? any ServiceAccountTokenSource else { continue }
      let wanted = tokenSource.kubeletTokenAttributes
      let name = Escaping.quoted(source.common.name)
      let serving = providers.filter { provider in source.common.matchImages.contains { pattern in provider.matchImages.contains { $0.overlaps(pattern) } } }
      let withToken = serving.filter { $0.tokenAttributes != nil }
      if withToken.isEmpty, let provider = serving.first {
        let skip = tokenSource.token.withoutToken == .skip
        report.add(
          skip ? .warning : .error, skip ? "kubelet-token-never-sent" : "kubelet-token-attributes-missing",
          "source \(name) needs the pod's service-account token, but provider \(quoted: provider.name) has no tokenAttributes, so the kubelet sends none"
            + (skip ? ": the source never serves (withoutToken: skip)" : ": provide fails for every image it serves"),
          file: path, line: document.line(provider.reader.path),
          fix: "add tokenAttributes to provider \(quoted: provider.name): \(wanted.summary)")
        continue
      }
      for provider in withToken {
        guard let attributes = provider.tokenAttributes else { continue }
        let at = { (key: String) in document.line(attributes.path.appending(key)) ?? document.line(attributes.path) }
        let audience = try? attributes.string("serviceAccountTokenAudience")
        if let expected = wanted.serviceAccountTokenAudience, let audience, !audience.isEmpty, audience != expected {
          report.error(
            "kubelet-token-attributes", "source \(name) expects tokens for audience \(quoted: expected), but provider \(quoted: provider.name) asks the kubelet for \(quoted: audience)",
            file: path, line: at("serviceAccountTokenAudience"), fix: "set serviceAccountTokenAudience: \(quoted: expected) (or the source's tokenAudience to \(quoted: audience))")
        }
        let cacheType = (try? attributes.string("cacheType")) ?? nil
        if wanted.cacheTypeIsRequired, let cacheType, cacheType != wanted.cacheType {
          report.error(
            "kubelet-token-attributes", "source \(name) hands out the token itself, which the kubelet accepts only with cacheType \(wanted.cacheType), but provider \(quoted: provider.name) has \(quoted: cacheType)",
            file: path, line: at("cacheType"), fix: "set cacheType: \(wanted.cacheType)")
        }
        let requireServiceAccount = (try? attributes.bool("requireServiceAccount")) ?? nil
        if requireServiceAccount == false && wanted.requireServiceAccount {
          report.warning(
            "kubelet-require-service-account",
            "provider \(quoted: provider.name) has requireServiceAccount: false, so the kubelet calls Pullwarden without a token for pods without a service account (static pods), and source \(name) fails those calls",
            file: path, line: at("requireServiceAccount"), fix: "set requireServiceAccount: true, or withoutToken: skip on source \(name)")
        }
        let required = ((try? attributes.stringArray("requiredServiceAccountAnnotationKeys")) ?? nil) ?? []
        let optional = ((try? attributes.stringArray("optionalServiceAccountAnnotationKeys")) ?? nil) ?? []
        for key in wanted.requiredAnnotationKeys where !required.contains(key) && !optional.contains(key) {
          report.error(
            "kubelet-token-attributes", "source \(name) requires annotation \(quoted: key), but provider \(quoted: provider.name) does not pass it, so every call fails",
            file: path, line: at("requiredServiceAccountAnnotationKeys"), fix: "add \(quoted: key) to requiredServiceAccountAnnotationKeys")
        }
        for key in wanted.optionalAnnotationKeys where !required.contains(key) && !optional.contains(key) {
          report.warning(
            "kubelet-annotation-not-passed", "source \(name) reads annotation \(quoted: key), but provider \(quoted: provider.name) does not pass it, so it is never used",
            file: path, line: at("optionalServiceAccountAnnotationKeys"), fix: "add \(quoted: key) to optionalServiceAccountAnnotationKeys")
        }
      }
    }
    for provider in providers where provider.tokenAttributes != nil && tokenSourcesServed(by: provider).isEmpty {
      report.warning(
        "kubelet-token-attributes-unneeded",
        "provider \(quoted: provider.name) has tokenAttributes, but no Pullwarden source it serves uses the token: the kubelet still requests one for every pull (and skips pods it cannot get one for)",
        file: path, line: document.line(provider.reader.path.appending("tokenAttributes")), fix: "remove tokenAttributes from provider \(quoted: provider.name)")
    }
  }

  // MARK: Paths

  private func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileIO.resolve(path, relativeTo: FileIO.currentDirectory())
  }

  /// The path with symbolic links resolved when it exists, else made absolute.
  private func normalized(_ path: String) -> String {
    let full = absolute(path)
    guard let resolved = realpath(full, nil) else { return full }
    defer { free(resolved) }
    return String(cString: resolved)
  }
}

extension KubeletConfigCheck.Provider {
  /// The config file the args give `provide`: `provide --config PATH`, `-c PATH` or `--config=PATH`.
  var configArgument: String? {
    guard args.first == "provide" else { return nil }
    var rest = args.dropFirst()[...]
    while let word = rest.popFirst() {
      if word == "--config" || word == "-c" { return rest.first }
      if word.hasPrefix("--config=") { return String(word.dropFirst("--config=".count)) }
    }
    return nil
  }
}

extension Document {
  /// The line of the value at `path`, when the document is YAML.
  func line(_ path: JSONPath) -> Int? {
    guard let source = yamlSource else { return nil }
    return YAMLLoader.position(of: path, inDocument: source.index, of: source.bytes, schema: source.schema)?.line
  }
}
