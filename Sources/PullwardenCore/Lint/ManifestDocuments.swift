/// Bounds on what `pullwarden lint` reads: manifests come from anyone who can open a pull request, so
/// each bound is far above real use and every error that meets one names it.
public enum LintLimits {
  /// Bytes of one manifest file (or of stdin).
  public static let fileSize = 8 << 20
  /// `---` documents in one file.
  public static let documentsPerFile = 10_000
  /// Containers examined in one file (aliases can repeat a large list many times over).
  public static let containersPerFile = 100_000
  /// Files read from the directories given, all together.
  public static let filesPerRun = 100_000
  /// Directory levels below a directory given.
  public static let directoryDepth = 64
  /// `List` objects nested in each other.
  static let listDepth = 4
}

/// One `---` document of a manifest file: its bytes and the file line it starts on, so each can be
/// parsed on its own (a syntax error in one leaves the others readable) and still report file lines.
struct ManifestChunk {
  var bytes: ArraySlice<UInt8>
  var firstLine: Int

  /// Splits `bytes` before every line that starts with a document marker (`---` followed by a
  /// space, a tab or the line's end): YAML forbids such a line inside any value, so the split never
  /// cuts one. A file whose first non-blank character is `{` or `[` is JSON, one document.
  static func split(_ bytes: [UInt8]) -> [ManifestChunk] {
    let first = bytes.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
    if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") { return [ManifestChunk(bytes: bytes[...], firstLine: 1)] }
    var chunks: [ManifestChunk] = []
    var start = 0, startLine = 1, line = 1, index = 0
    let dash = UInt8(ascii: "-")
    while index < bytes.count {
      // `index` is at the start of line `line`.
      if index + 2 < bytes.count, bytes[index] == dash, bytes[index + 1] == dash, bytes[index + 2] == dash,
        index + 3 == bytes.count || [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index + 3]), index > start
      {
        chunks.append(ManifestChunk(bytes: bytes[start..<index], firstLine: startLine))
        start = index
        startLine = line
      }
      guard let newline = bytes[index...].firstIndex(of: 0x0A) else { break }
      index = newline + 1
      line += 1
    }
    if start < bytes.count || chunks.isEmpty { chunks.append(ManifestChunk(bytes: bytes[start...], firstLine: startLine)) }
    return chunks
  }
}

/// A container found in a manifest, with what the rules need to know about it and its pod.
public struct ManifestContainer: Sendable {
  public var file: String
  /// The object it belongs to: its kind and (when the manifest says) namespace and name.
  public var objectKind: String
  public var namespace: String?
  public var name: String?
  /// `spec.template.spec.containers[0]`, from the object (the document root or a `List` item).
  public var path: JSONPath
  public var containerName: String?
  public var image: String
  public var imagePullPolicy: String?
  /// Whether the pod spec lists any imagePullSecrets.
  public var hasPullSecrets: Bool
  /// The pod's service account (`default` when the spec names none): the API server adds that
  /// account's imagePullSecrets to the pod, so a ServiceAccount in the same input can cover it.
  public var serviceAccount: ServiceAccountName
  /// Rules silenced by the `pullwarden.dev/lint-ignore` annotation for this container.
  public var ignoredRules: Set<String>
  /// Where `image` and `imagePullPolicy` are, when the parser could place them.
  public var imageMark: (line: Int, column: Int)?
  public var policyMark: (line: Int, column: Int)?

  /// `Deployment team-a/web`, `Pod web`, `Job` (unnamed).
  public var objectDescription: String {
    var text = objectKind
    if let name { text += " " + (namespace.map { $0 + "/" } ?? "") + name }
    return text
  }
}

/// A service account by namespace (nil when the manifest leaves it to `kubectl apply -n`) and name.
public struct ServiceAccountName: Hashable, Sendable {
  public var namespace: String?
  public var name: String
}

/// Reads manifest files into containers: Pods, workload controllers, PodTemplates and `List`s of
/// them, in multi-document YAML or JSON.
public enum ManifestReader {
  /// The annotation that silences rules, on the object or on its pod template.
  public static let ignoreAnnotation = "pullwarden.dev/lint-ignore"

  /// Where each kind keeps its pod spec.
  static let podSpecPaths: [String: [String]] = [
    "Pod": ["spec"],
    "PodTemplate": ["template", "spec"],
    "Deployment": ["spec", "template", "spec"],
    "StatefulSet": ["spec", "template", "spec"],
    "DaemonSet": ["spec", "template", "spec"],
    "ReplicaSet": ["spec", "template", "spec"],
    "ReplicationController": ["spec", "template", "spec"],
    "Job": ["spec", "template", "spec"],
    "CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
  ]
  static let containerLists = ["initContainers", "containers", "ephemeralContainers"]

  /// What one file holds: its containers, the objects they came from, problems (each one line with
  /// file:line, each costing only its own document) and warnings.
  public struct FileContents: Sendable {
    public var containers: [ManifestContainer] = []
    public var objects = 0
    /// ServiceAccounts in the file that list imagePullSecrets.
    public var accountsWithPullSecrets: Set<ServiceAccountName> = []
    public var errors: [PullwardenError] = []
    public var warnings: [String] = []
  }

  /// A problem in one document, at a path inside it.
  struct DocumentProblem: Error {
    var what: String
    var path: JSONPath
    /// A limit of the whole file was met: the rest of the file is not read.
    var endsFile = false
  }

  /// Every container of every document in `bytes`, read from `file`.
  public static func read(_ bytes: [UInt8], file: String) -> FileContents {
    var contents = FileContents()
    if bytes.count > LintLimits.fileSize {
      contents.errors.append(PullwardenError(.config, "file is larger than \(ByteCount(LintLimits.fileSize)) (the lint limit for one file)", at: file))
      return contents
    }
    let chunks = ManifestChunk.split(bytes)
    if chunks.count > LintLimits.documentsPerFile {
      contents.errors.append(PullwardenError(.config, "file holds more than \(LintLimits.documentsPerFile) documents (the lint limit for one file)", at: file))
      return contents
    }
    for chunk in chunks {
      let chunkBytes = Array(chunk.bytes)
      let documents: [Document]
      do {
        documents = try YAMLLoader.documents(chunkBytes, name: file, kind: .config, schema: .kubernetes, firstLine: chunk.firstLine)
      } catch {
        contents.errors.append(error)
        continue
      }
      for (index, document) in documents.enumerated() {
        let source = (bytes: chunkBytes, index: index, firstLine: chunk.firstLine)
        do {
          try read(document.root, file: file, source: source, into: &contents)
        } catch {
          let mark = YAMLPositions.find([error.path], inDocument: index, of: source.bytes, firstLine: chunk.firstLine, schema: .kubernetes)[error.path]
          let place = mark.map { "\(file):\($0.line):\($0.column)" } ?? file
          contents.errors.append(PullwardenError(.config, error.what, at: error.path.components.isEmpty ? place : "\(place), at \(error.path)"))
          if error.endsFile { return contents }
        }
      }
    }
    return contents
  }

  /// The containers of one document (nothing for an empty document or a kind without pods); the
  /// document's containers are added only when all of it could be read.
  static func read(
    _ root: JSONValue, file: String, source: (bytes: [UInt8], index: Int, firstLine: Int), into contents: inout FileContents
  ) throws(DocumentProblem) {
    if case .null = root { return }
    var collected = Collected(containerBudget: LintLimits.containersPerFile - contents.containers.count)
    try collect(root, at: .root, file: file, listDepth: 0, into: &collected)
    var found = collected.containers
    let warnings = collected.warnings
    var wanted: [JSONPath] = []
    for container in found {
      wanted.append(container.path.appending("image"))
      if container.imagePullPolicy != nil { wanted.append(container.path.appending("imagePullPolicy")) }
    }
    wanted += warnings.map(\.1)
    let marks = YAMLPositions.find(wanted, inDocument: source.index, of: source.bytes, firstLine: source.firstLine, schema: .kubernetes)
    for index in found.indices {
      found[index].imageMark = marks[found[index].path.appending("image")].map { ($0.line, $0.column) }
      found[index].policyMark = marks[found[index].path.appending("imagePullPolicy")].map { ($0.line, $0.column) }
    }
    for (what, path) in warnings {
      let place = marks[path].map { "\(file):\($0.line):\($0.column)" } ?? file
      contents.warnings.append("\(what) (\(place))")
    }
    contents.containers += found
    contents.objects += collected.objects
    contents.accountsWithPullSecrets.formUnion(collected.accountsWithPullSecrets)
  }

  /// What one document holds, gathered before positions are looked up.
  struct Collected {
    /// How many more containers the file may hold (aliases can repeat a large list many times).
    var containerBudget: Int
    var containers: [ManifestContainer] = []
    var objects = 0
    var accountsWithPullSecrets: Set<ServiceAccountName> = []
    /// Warnings with the path they are about.
    var warnings: [(String, JSONPath)] = []
  }

  /// Walks one object (or a `List` of them).
  static func collect(
    _ value: JSONValue, at path: JSONPath, file: String, listDepth: Int, into collected: inout Collected
  ) throws(DocumentProblem) {
    guard case .object(let object) = value else {
      throw DocumentProblem(what: "a manifest must be an object, found \(value.typeName)", path: path)
    }
    guard case .string(let kind)? = object["kind"] else {
      throw DocumentProblem(what: "not a Kubernetes object: \"kind\" is missing or not a string", path: path)
    }
    if kind == "List" || (kind.hasSuffix("List") && object["items"] != nil) {
      guard listDepth < LintLimits.listDepth else {
        throw DocumentProblem(what: "Lists nested more than \(LintLimits.listDepth) deep", path: path)
      }
      let items = try array(object, "items", at: path) ?? []
      for (index, item) in items.enumerated() {
        try collect(item, at: path.appending("items").appending(index), file: file, listDepth: listDepth + 1, into: &collected)
      }
      return
    }
    let metadata = try self.object(object, "metadata", at: path)
    let namespace = try string(metadata, "namespace", at: path.appending("metadata"))
    let name = try string(metadata, "name", at: path.appending("metadata"))
    if kind == "ServiceAccount", let name, !(try array(object, "imagePullSecrets", at: path) ?? []).isEmpty {
      collected.accountsWithPullSecrets.insert(ServiceAccountName(namespace: namespace, name: name))
    }
    guard let specPath = podSpecPaths[kind] else { return }
    collected.objects += 1

    // Walk to the pod spec; its template's metadata sits next to it.
    var spec: JSONObject? = object
    var specAt = path
    var templateMetadata: JSONObject?
    for key in specPath {
      guard let current = spec else { break }
      if key == "spec" && specAt != path {
        templateMetadata = try self.object(current, "metadata", at: specAt)
      }
      spec = try self.object(current, key, at: specAt)
      specAt = specAt.appending(key)
    }
    guard let spec else { return }

    var ignores: [Ignore] = []
    for (annotations, at) in [(metadata, path.appending("metadata")), (templateMetadata, JSONPath(components: specAt.components.dropLast() + [.key("metadata")]))] {
      guard let annotationMap = try self.object(annotations, "annotations", at: at),
        let text = try string(annotationMap, ignoreAnnotation, at: at.appending("annotations"))
      else { continue }
      let annotationPath = at.appending("annotations").appending(ignoreAnnotation)
      let parsed = parseIgnore(text)
      ignores += parsed.ignores
      collected.warnings += parsed.unknown.map { ("warning: \(ignoreAnnotation) names unknown rule \(quoted: $0) (rules: \(LintRule.allCases.map(\.rawValue).joined(separator: ", ")))", annotationPath) }
    }

    let pullSecrets = try array(spec, "imagePullSecrets", at: specAt) ?? []
    // serviceAccount is the deprecated spelling the API server still honours.
    let deprecatedAccount = try string(spec, "serviceAccount", at: specAt)
    let account = try string(spec, "serviceAccountName", at: specAt) ?? deprecatedAccount ?? "default"
    for list in containerLists {
      guard let containers = try array(spec, list, at: specAt) else { continue }
      for (index, element) in containers.enumerated() {
        let containerPath = specAt.appending(list).appending(index)
        guard case .object(let container) = element else {
          throw DocumentProblem(what: "\"\(list)\" items must be objects, item \(index) is \(element.typeName)", path: containerPath)
        }
        let containerName = try string(container, "name", at: containerPath)
        // Workload templates may leave the image to config management (the API allows it).
        guard let image = try string(container, "image", at: containerPath), !image.isEmpty else { continue }
        // An empty policy is unset to the API server, which then fills in its default.
        let policy = try string(container, "imagePullPolicy", at: containerPath).flatMap { $0.isEmpty ? nil : $0 }
        if let policy, PullPolicy(rawValue: policy) == nil {
          throw DocumentProblem(
            what: "imagePullPolicy must be Always, IfNotPresent or Never, found \(quoted: policy) (the API server rejects it)",
            path: containerPath.appending("imagePullPolicy"))
        }
        guard collected.containers.count < collected.containerBudget else {
          throw DocumentProblem(
            what: "file holds more than \(LintLimits.containersPerFile) containers (the lint limit for one file); the rest of it is not read",
            path: containerPath, endsFile: true)
        }
        var ignored = Set<String>()
        for ignore in ignores where ignore.container == nil || ignore.container == containerName { ignored.insert(ignore.rule) }
        collected.containers.append(
          ManifestContainer(
            file: file, objectKind: kind, namespace: namespace, name: name, path: containerPath, containerName: containerName,
            image: image, imagePullPolicy: policy, hasPullSecrets: !pullSecrets.isEmpty,
            serviceAccount: ServiceAccountName(namespace: namespace, name: account), ignoredRules: ignored))
      }
    }
  }

  /// One entry of the ignore annotation: a rule (or `all`), for every container or one.
  struct Ignore: Equatable {
    var rule: String
    var container: String?
  }

  /// `"always-on-digest, latest-tag-without-policy:debug, all:sidecar"`: comma-separated rules,
  /// each optionally limited to one container by `:name`; unknown rule names are returned apart.
  static func parseIgnore(_ text: String) -> (ignores: [Ignore], unknown: [String]) {
    var ignores: [Ignore] = []
    var unknown: [String] = []
    for entry in text.split(separator: ",") {
      let trimmed = String(entry).trimmingASCIIWhitespace()
      if trimmed.isEmpty { continue }
      let parts = trimmed.split(separator: ":", maxSplits: 1).map { String($0).trimmingASCIIWhitespace() }
      let rule = parts[0]
      guard rule == "all" || LintRule(rawValue: rule) != nil else {
        unknown.append(rule)
        continue
      }
      let container = parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil
      if rule == "all" {
        ignores += LintRule.allCases.map { Ignore(rule: $0.rawValue, container: container) }
      } else {
        ignores.append(Ignore(rule: rule, container: container))
      }
    }
    return (ignores, unknown)
  }

  // MARK: Typed field access, with the path of a wrong value

  static func object(_ object: JSONObject?, _ key: String, at path: JSONPath) throws(DocumentProblem) -> JSONObject? {
    switch object?[key] {
    case nil, .null?: return nil
    case .object(let value)?: return value
    case let other?: throw DocumentProblem(what: "\"\(key)\" must be an object, found \(other.typeName)", path: path.appending(key))
    }
  }

  static func array(_ object: JSONObject?, _ key: String, at path: JSONPath) throws(DocumentProblem) -> [JSONValue]? {
    switch object?[key] {
    case nil, .null?: return nil
    case .array(let value)?: return value
    case let other?: throw DocumentProblem(what: "\"\(key)\" must be a list, found \(other.typeName)", path: path.appending(key))
    }
  }

  static func string(_ object: JSONObject?, _ key: String, at path: JSONPath) throws(DocumentProblem) -> String? {
    switch object?[key] {
    case nil, .null?: return nil
    case .string(let value)?: return value
    case let other?: throw DocumentProblem(what: "\"\(key)\" must be a string, found \(other.typeName)", path: path.appending(key))
    }
  }
}
