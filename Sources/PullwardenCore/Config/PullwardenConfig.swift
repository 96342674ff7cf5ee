/// Pullwarden's configuration file (YAML or JSON), validated completely when it is loaded.
///
/// Every error names the file, the line and column where known, the key and the problem. Unknown keys
/// are errors here (unlike in requests), because a misspelled key in a config is a silent
/// misconfiguration.
public struct PullwardenConfig: Sendable {
  public static let apiVersion = "pullwarden.dev/v1alpha1"
  public static let kind = "PullwardenConfig"
  public static let sizeLimit = 1 << 20
  public static let defaultRecordsDirectory = "/var/lib/pullwarden"
  public static let defaultCacheDurationValue = GoDuration.minutes(5)
  public static let defaultMissCacheDurationValue = GoDuration.seconds(30)

  /// The source types a config may use, by their `type` value.
  public static let sourceTypes: [any CredentialSource.Type] = [
    DockerConfigSource.self, SecretFilesSource.self, TokenExchangeSource.self, RegistryTokenSource.self,
    PassthroughSource.self, KubernetesSecretsSource.self,
  ]
  /// How much of a credential's remaining lifetime the kubelet's cache may not use, by default.
  public static let defaultExpirySkewValue = GoDuration.seconds(30)

  /// The file the config came from.
  public var path: String
  /// Where pull records are kept (absolute).
  public var recordsDirectory: String
  /// cacheDuration for sources that do not set their own.
  public var defaultCacheDuration: GoDuration
  /// cacheDuration of a response with no credentials.
  public var missCacheDuration: GoDuration
  /// Sources in the order their credentials are preferred.
  public var sources: [any CredentialSource]
  /// Kept off the end of a credential's lifetime: cacheDuration ≤ (expiry − now − expirySkew).
  public var expirySkew: GoDuration = defaultExpirySkewValue
  /// The cross-invocation cache of exchanged credentials; nil when off (the default).
  public var credentialCache: CredentialCacheSettings? = nil
  /// Where each provide call's decision is logged; nil when off (the default).
  public var log: LogSettings? = nil
  /// The Prometheus textfile provide calls count into; nil when off (the default).
  public var metrics: MetricsSettings? = nil

  /// Whether a provide call has anything to log or count (nothing extra is done otherwise).
  public var observes: Bool { log != nil || metrics != nil }

  /// Reads and validates the config at `path`.
  public static func load(path: String) throws(PullwardenError) -> PullwardenConfig {
    let bytes: [UInt8]
    do {
      // The config decides which files are credentials and where records go: only root (or the
      // user running Pullwarden) may be able to write it.
      bytes = try FileIO.readFile(path, limit: sizeLimit, trusted: true)
    } catch let untrusted as UntrustedFile {
      throw PullwardenError(.config, untrusted.description, at: "config file")
    } catch {
      throw PullwardenError(.config, "cannot read config: \(error)")
    }
    return try parse(bytes, path: path)
  }

  /// Validates a config held in memory; relative paths inside it resolve against `path`'s directory.
  public static func parse(_ bytes: [UInt8], path: String) throws(PullwardenError) -> PullwardenConfig {
    // Our own format: the YAML 1.2 core schema (`yes` is a string, so `enabled: yes` is a type error,
    // not a guess).
    let document = try YAMLLoader.document(bytes, name: path, kind: .config, schema: .core)
    let root = try document.rootObject(describedAs: "config")
    try root.rejectUnknownKeys(["apiVersion", "kind", "recordsDir", "defaultCacheDuration", "missCacheDuration", "sources", "expirySkew", "credentialCache", "log", "metrics"])
    if let apiVersion = try root.string("apiVersion"), apiVersion != Self.apiVersion {
      throw root.error("unsupported apiVersion \"\(apiVersion)\" (expected \"\(Self.apiVersion)\")", at: "apiVersion")
    }
    if let kind = try root.string("kind"), kind != Self.kind {
      throw root.error("unsupported kind \"\(kind)\" (expected \"\(Self.kind)\")", at: "kind")
    }

    var baseDirectory = FileIO.directoryName(path)
    if !baseDirectory.hasPrefix("/") { baseDirectory = FileIO.resolve(baseDirectory, relativeTo: FileIO.currentDirectory()) }
    let recordsText = try root.string("recordsDir") ?? defaultRecordsDirectory
    if recordsText.isEmpty { throw root.error("\"recordsDir\" must not be empty", at: "recordsDir") }
    if RecordStore.looksLikeKubeletDirectory(path: recordsText) {
      throw root.error(
        "\"recordsDir\" names the kubelet's image_manager directory: Pullwarden must never write into the kubelet's own pull records; give it a directory of its own (default \(defaultRecordsDirectory))",
        at: "recordsDir")
    }
    let defaultCacheDuration = try nonNegativeDuration(root, "defaultCacheDuration") ?? defaultCacheDurationValue
    let missCacheDuration = try nonNegativeDuration(root, "missCacheDuration") ?? defaultMissCacheDurationValue

    guard let sourceReaders = try root.objectArray("sources") else { throw root.error("missing required field \"sources\"") }
    if sourceReaders.isEmpty { throw root.error("\"sources\" is empty: list at least one credential source", at: "sources") }
    var sources: [any CredentialSource] = []
    for reader in sourceReaders {
      let source = try makeSource(reader, defaultCacheDuration: defaultCacheDuration, baseDirectory: baseDirectory)
      // A linear scan: configs hold a handful of sources, and a dictionary costs start-up time.
      if let earlier = sources.firstIndex(where: { $0.common.name == source.common.name }) {
        throw reader.error("duplicate source name \"\(source.common.name)\" (also used by \(sourceReaders[earlier].path))", at: "name")
      }
      sources.append(source)
    }
    var config = PullwardenConfig(
      path: path, recordsDirectory: FileIO.resolve(recordsText, relativeTo: baseDirectory),
      defaultCacheDuration: defaultCacheDuration, missCacheDuration: missCacheDuration, sources: sources)
    config.expirySkew = try nonNegativeDuration(root, "expirySkew") ?? defaultExpirySkewValue
    if let cache = try root.object("credentialCache") {
      config.credentialCache = try CredentialCacheSettings.read(cache, baseDirectory: baseDirectory)
    }
    if config.credentialCache == nil, let index = sourceReaders.firstIndex(where: { reader in
      // true on a token source, a duration on kubernetesSecrets
      reader.object["staleIfError"] == .bool(true) || reader.object["staleIfError"]?.stringValue != nil
    }) {
      throw sourceReaders[index].error(
        "\"staleIfError\" serves credentials from the credential cache, which is off: set credentialCache too", at: "staleIfError")
    }
    if let log = try root.object("log") { config.log = try LogSettings.read(log, baseDirectory: baseDirectory) }
    if let metrics = try root.object("metrics") { config.metrics = try MetricsSettings.read(metrics, baseDirectory: baseDirectory) }
    return config
  }

  private static let commonSourceKeys = ["name", "type", "matchImages", "cacheKeyType", "cacheDuration"]

  private static func makeSource(
    _ reader: ObjectReader, defaultCacheDuration: GoDuration, baseDirectory: String
  ) throws(PullwardenError) -> any CredentialSource {
    let name = try reader.requiredNonEmptyString("name")
    if !isValidSourceName(name) {
      throw reader.error("source name \"\(name)\" must be 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit", at: "name")
    }
    let typeName = try reader.requiredNonEmptyString("type")
    guard let type = sourceTypes.first(where: { $0.typeName == typeName }) else {
      var message = "unknown source type \"\(typeName)\" (expected one of \(sourceTypes.map { $0.typeName }.joined(separator: ", ")))"
      if let suggestion = closestMatch(to: typeName, in: sourceTypes.map { $0.typeName }) {
        message += "; did you mean \"\(suggestion)\"?"
      }
      throw reader.error(message, at: "type")
    }
    try reader.rejectUnknownKeys(commonSourceKeys + type.settingKeys)

    guard let patternTexts = try reader.stringArray("matchImages") else {
      throw reader.error("missing required field \"matchImages\"")
    }
    if patternTexts.isEmpty { throw reader.error("\"matchImages\" is empty: the source would never be used", at: "matchImages") }
    var patterns: [ImagePattern] = []
    for (index, text) in patternTexts.enumerated() {
      switch Result(catching: { () throws(ImagePattern.ParseError) in try ImagePattern(parsing: text) }) {
      case .success(let pattern):
        patterns.append(pattern)
      case .failure(let problem):
        throw reader.document.error("invalid pattern \"\(text)\": \(problem)", at: reader.path.appending("matchImages").appending(index))
      }
    }

    var cacheKeyType = CacheKeyType.image
    if let text = try reader.string("cacheKeyType") {
      guard let parsed = CacheKeyType(rawValue: text) else {
        var message = "unknown cacheKeyType \"\(text)\" (expected Image, Registry or Global; the values are case-sensitive)"
        if text == "Token" || text == "ServiceAccount" {
          message += "; \"\(text)\" is a kubelet tokenAttributes.cacheType, which belongs in the kubelet's CredentialProviderConfig"
        }
        throw reader.error(message, at: "cacheKeyType")
      }
      cacheKeyType = parsed
    }
    if cacheKeyType != .image, let scoped = patterns.firstIndex(where: { !$0.path.isEmpty }) {
      // A Registry or Global answer is reused by the kubelet for other repositories, which a
      // path-scoped source must not serve.
      throw reader.document.error(
        "cacheKeyType \(cacheKeyType.rawValue) lets the kubelet reuse the answer for other repositories, but pattern \"\(patterns[scoped])\" limits this source to one path; use cacheKeyType Image or a host-only pattern",
        at: reader.path.appending("matchImages").appending(scoped))
    }
    let cacheDuration = try nonNegativeDuration(reader, "cacheDuration") ?? defaultCacheDuration
    let common = SourceCommon(name: name, matchImages: patterns, cacheKeyType: cacheKeyType, cacheDuration: cacheDuration)
    return try type.make(common: common, settings: reader, baseDirectory: baseDirectory)
  }

  private static func nonNegativeDuration(_ reader: ObjectReader, _ key: String) throws(PullwardenError) -> GoDuration? {
    guard let value = try reader.duration(key) else { return nil }
    if value < .zero { throw reader.error("\"\(key)\" must not be negative", at: key) }
    return value
  }

  private static func isValidSourceName(_ name: String) -> Bool {
    guard name.utf8.count <= 63, let first = name.first, first.isASCIIAlphanumeric else { return false }
    return name.allSatisfy { $0.isASCIIAlphanumeric || $0 == "-" || $0 == "_" || $0 == "." }
  }
}
