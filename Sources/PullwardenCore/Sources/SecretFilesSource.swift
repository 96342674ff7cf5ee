/// `type: secretFiles`: a directory of Kubernetes Secret objects saved as JSON or YAML
/// (`kubectl get secret NAME -o yaml > dir/NAME.yaml`).
///
/// Files ending in `.json`, `.yaml` or `.yml` are read in name order; hidden files are skipped. A file
/// may hold one Secret, several YAML documents, or a `List` (what `kubectl get secrets -o yaml`
/// prints). Each credential keeps its Secret's namespace, name and uid, so pull records can name it.
public struct SecretFilesSource: CredentialSource {
  public static let typeName = "secretFiles"
  public static let settingKeys = ["directory"]
  /// The API server refuses Secrets over 1 MiB; a file holding a List may be larger.
  static let fileSizeLimit = 8 << 20

  public let common: SourceCommon
  public let directory: String

  public init(common: SourceCommon, settings: ObjectReader, baseDirectory: String) throws(PullwardenError) {
    self.common = common
    directory = FileIO.resolve(try settings.requiredNonEmptyString("directory"), relativeTo: baseDirectory)
  }

  public func credentials(for context: ProvideContext) throws(PullwardenError) -> [SuppliedCredential] {
    var supplied: [SuppliedCredential] = []
    for secret in try secrets(diagnostics: context.diagnostics) {
      guard let config = try secret.dockerConfig() else {
        let reason = secret.isDockerSecret ? "it has no registry credentials" : "its type is \"\(secret.type)\""
        context.diagnostics.warn("ignoring Secret \(secret.coordinates) (\(secret.origin)): \(reason)")
        continue
      }
      for entry in config.entries {
        guard let key = entry.key, context.includes(key, within: common.matchImages) else { continue }
        supplied.append(
          SuppliedCredential(
            key: key, credential: entry.credential, origin: CredentialOrigin(secret: secret.coordinates),
            sourceName: common.name))
      }
    }
    return supplied
  }

  /// Every Secret object in the directory, in file order then document order.
  public func secrets(diagnostics: Diagnostics) throws(PullwardenError) -> [KubernetesSecret] {
    let names: [String]
    do {
      names = try FileIO.directoryEntries(directory)
    } catch {
      throw PullwardenError(.source, "cannot read Secret directory: \(error)", at: "source \"\(common.name)\"")
    }
    var secrets: [KubernetesSecret] = []
    var seen: [SecretCoordinates: String] = [:]
    for name in names where !name.hasPrefix(".") && (name.hasSuffix(".json") || name.hasSuffix(".yaml") || name.hasSuffix(".yml")) {
      let path = FileIO.resolve(name, relativeTo: directory)
      do {
        guard try FileIO.fileType(path) == .regular else { continue }
      } catch {
        throw PullwardenError(.source, "\(error)", at: "source \"\(common.name)\"")
      }
      let bytes: [UInt8]
      do {
        bytes = try FileIO.readFile(path, limit: Self.fileSizeLimit)
      } catch {
        throw PullwardenError(.source, "cannot read Secret file: \(error)", at: "source \"\(common.name)\"")
      }
      for document in try YAMLLoader.documents(bytes, name: path, kind: .source) {
        for secret in try Self.secrets(in: document, diagnostics: diagnostics) {
          if let earlier = seen[secret.coordinates] {
            diagnostics.warn("Secret \(secret.coordinates) appears twice (\(earlier) and \(secret.origin)); both are used")
          }
          seen[secret.coordinates] = secret.origin
          secrets.append(secret)
        }
      }
    }
    return secrets
  }

  /// The Secrets in one document: a Secret, or a List of them.
  static func secrets(in document: Document, diagnostics: Diagnostics) throws(PullwardenError) -> [KubernetesSecret] {
    if document.root == .null { return [] }  // an empty YAML document, e.g. after a trailing "---"
    let object = try document.rootObject(describedAs: "Kubernetes object")
    switch try object.string("kind") {
    case "List", "SecretList":
      return try (object.objectArray("items") ?? []).map { item throws(PullwardenError) in try KubernetesSecret(item) }
    case "Secret", nil:
      return [try KubernetesSecret(object)]
    case let other?:
      diagnostics.warn("ignoring \(other) object in \(document.name): only Secrets are read")
      return []
    }
  }
}
