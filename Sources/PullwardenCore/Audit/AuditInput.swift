/// What `pullwarden audit` reads: pods, their pull Secrets and the runtime's image list, each as
/// `kubectl`/`crictl` print them in JSON. Pods and Secrets are written by tenants, so every list and
/// string is bounded (`AuditLimits`) and only the fields the audit needs are read; other fields are
/// ignored, as Kubernetes clients do.
public enum AuditLimits {
  /// Bytes of `--pods` or `--secrets` (`kubectl get pods -o json` of 10,000 pods is about 100 MiB).
  public static let objectListBytes = 512 << 20
  /// Bytes of `--images` (`crictl images -o json`).
  public static let imageListBytes = 64 << 20
  /// Pods, Secrets or runtime images in one file.
  public static let itemsPerList = 200_000
  /// Containers of one pod, init and ephemeral ones included.
  public static let containersPerPod = 256
  /// `imagePullSecrets` of one pod (as many as a service account may list, `TenantLimits`).
  public static let pullSecretsPerPod = TenantLimits.secretsPerServiceAccount
  /// Bytes of an image string, a name or a tag (a reference is far shorter in practice).
  public static let stringBytes = 4_096
  /// Tags and digests of one runtime image.
  public static let namesPerImage = 1_024
}

/// A container of a pod, as the audit needs it.
public struct AuditContainer: Sendable, Equatable {
  public enum Kind: String, Sendable {
    case container, initContainer, ephemeralContainer
  }

  public var kind: Kind
  public var name: String
  public var image: String
  /// As given, or as the API server defaults it (`Always` for `:latest` or no tag, else `IfNotPresent`).
  public var pullPolicy: String

  public init(kind: Kind, name: String, image: String, pullPolicy: String) {
    self.kind = kind
    self.name = name
    self.image = image
    self.pullPolicy = pullPolicy
  }

  /// The API server's default `imagePullPolicy` for `image` (`PullPolicy.kubernetesDefault`, which
  /// lint uses too: `:latest@sha256:…` is Always there as well).
  public static func defaultPullPolicy(for image: String) -> String {
    guard let reference = try? ImageReference(parsing: image) else { return PullPolicy.ifNotPresent.rawValue }
    return PullPolicy.kubernetesDefault(for: reference).rawValue
  }
}

/// A pod, as the audit needs it.
public struct AuditPod: Sendable, Equatable {
  public var namespace: String
  public var name: String
  public var uid: String
  public var nodeName: String
  public var serviceAccountName: String
  /// Names of `spec.imagePullSecrets`, in order (they live in the pod's namespace).
  public var pullSecretNames: [String]
  public var containers: [AuditContainer]

  public init(
    namespace: String, name: String, uid: String = "", nodeName: String = "", serviceAccountName: String = "default",
    pullSecretNames: [String] = [], containers: [AuditContainer]
  ) {
    self.namespace = namespace
    self.name = name
    self.uid = uid
    self.nodeName = nodeName
    self.serviceAccountName = serviceAccountName
    self.pullSecretNames = pullSecretNames
    self.containers = containers
  }

  /// Reads `kubectl get pods -o json`: a `List` (or `PodList`) of Pods, or one Pod.
  public static func parseList(_ bytes: [UInt8], name: String) throws(PullwardenError) -> [AuditPod] {
    try AuditList.items(bytes, name: name, itemKind: "Pod").map { item throws(PullwardenError) in try AuditPod(item) }
  }

  init(_ object: ObjectReader) throws(PullwardenError) {
    guard let metadata = try object.object("metadata") else { throw object.error("Pod has no \"metadata\"") }
    name = try AuditList.bounded(metadata, "name", required: true)
    namespace = try AuditList.bounded(metadata, "namespace") ?? "default"
    uid = try AuditList.bounded(metadata, "uid") ?? ""
    guard let spec = try object.object("spec") else { throw object.error("Pod has no \"spec\"") }
    nodeName = try AuditList.bounded(spec, "nodeName") ?? ""
    serviceAccountName = try AuditList.bounded(spec, "serviceAccountName") ?? "default"
    let references = try spec.objectArray("imagePullSecrets") ?? []
    if references.count > AuditLimits.pullSecretsPerPod {
      throw spec.error("more than \(AuditLimits.pullSecretsPerPod) imagePullSecrets", at: "imagePullSecrets")
    }
    pullSecretNames = []
    var seen: Set<String> = []
    for reference in references {
      // An entry without a name is dropped by the kubelet too.
      if let secret = try AuditList.bounded(reference, "name"), !secret.isEmpty, seen.insert(secret).inserted {
        pullSecretNames.append(secret)
      }
    }
    containers = []
    for (key, kind) in [("initContainers", AuditContainer.Kind.initContainer), ("containers", .container), ("ephemeralContainers", .ephemeralContainer)] {
      for container in try spec.objectArray(key) ?? [] {
        if containers.count == AuditLimits.containersPerPod {
          throw spec.error("more than \(AuditLimits.containersPerPod) containers", at: key)
        }
        let image = try AuditList.bounded(container, "image", required: true)
        let policy = try AuditList.bounded(container, "imagePullPolicy") ?? AuditContainer.defaultPullPolicy(for: image)
        containers.append(
          AuditContainer(kind: kind, name: try AuditList.bounded(container, "name", required: true), image: image, pullPolicy: policy))
      }
    }
  }
}

/// Pull Secrets by namespace and name, from `kubectl get secrets -o json`.
public struct AuditSecrets: Sendable {
  public private(set) var secrets: [String: KubernetesSecret] = [:]

  public init(_ secrets: [KubernetesSecret] = []) {
    for secret in secrets { self.secrets[Self.key(secret.coordinates.namespace, secret.coordinates.name)] = secret }
  }

  public static func parseList(_ bytes: [UInt8], name: String) throws(PullwardenError) -> AuditSecrets {
    let items = try AuditList.items(bytes, name: name, itemKind: "Secret")
    var secrets: [KubernetesSecret] = []
    secrets.reserveCapacity(items.count)
    for item in items { secrets.append(try KubernetesSecret(item)) }
    return AuditSecrets(secrets)
  }

  public func secret(namespace: String, name: String) -> KubernetesSecret? {
    secrets[Self.key(namespace, name)]
  }

  private static func key(_ namespace: String, _ name: String) -> String { namespace + "/" + name }
}

/// The runtime's images (`crictl images -o json`): which image ID a pod's image string resolves to.
public struct RuntimeImages: Sendable {
  /// Normalized `name:tag` and `name@digest` → image ID.
  private var ids: [String: String] = [:]
  public private(set) var count = 0

  public init(_ images: [(id: String, names: [String])]) {
    for image in images {
      count += 1
      for name in image.names {
        guard let reference = try? ImageReference(parsing: name), let key = Self.key(reference) else { continue }
        if ids[key] == nil { ids[key] = image.id }
      }
    }
  }

  public static func parse(_ bytes: [UInt8], name: String) throws(PullwardenError) -> RuntimeImages {
    if bytes.count > AuditLimits.imageListBytes {
      throw PullwardenError(.config, "larger than \(ByteCount(AuditLimits.imageListBytes))", at: name)
    }
    let document = Document(name: name, kind: .config, root: try JSON.parse(bytes, document: name, kind: .config))
    let root = try document.rootObject(describedAs: "crictl images -o json output")
    guard let list = try root.objectArray("images") else {
      throw root.error("no \"images\" list: expected the output of crictl images -o json")
    }
    if list.count > AuditLimits.itemsPerList { throw root.error("more than \(AuditLimits.itemsPerList) images", at: "images") }
    var images: [(id: String, names: [String])] = []
    for image in list {
      let id = try AuditList.bounded(image, "id", required: true)
      var names: [String] = []
      for key in ["repoTags", "repoDigests"] {
        let given = try image.stringArray(key) ?? []
        if given.count > AuditLimits.namesPerImage { throw image.error("more than \(AuditLimits.namesPerImage) names", at: key) }
        names += given.filter { $0.utf8.count <= AuditLimits.stringBytes }
      }
      images.append((id, names))
    }
    return RuntimeImages(images)
  }

  /// The image ID the runtime resolves `image` to, as the kubelet's `GetImageRef` would: the name
  /// normalized, `:latest` added when neither tag nor digest is given; a digest wins over a tag.
  public func id(of image: String) -> String? {
    guard let reference = try? ImageReference(parsing: image), let key = Self.key(reference) else { return nil }
    return ids[key]
  }

  private static func key(_ reference: ImageReference) -> String? {
    if let digest = reference.digest { return reference.name + "@" + digest }
    return reference.name + ":" + (reference.tag ?? "latest")
  }
}

/// Reading a Kubernetes `List` safely.
enum AuditList {
  /// The objects of a `List` (`kind` `List` or `<itemKind>List`), or the one object when the file is
  /// a single `itemKind`.
  static func items(_ bytes: [UInt8], name: String, itemKind: String) throws(PullwardenError) -> [ObjectReader] {
    if bytes.count > AuditLimits.objectListBytes {
      throw PullwardenError(.config, "larger than \(ByteCount(AuditLimits.objectListBytes))", at: name)
    }
    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
      throw PullwardenError(.config, "empty: expected the output of kubectl get \(itemKind.lowercased())s -o json", at: name)
    }
    let document = Document(name: name, kind: .config, root: try JSON.parse(bytes, document: name, kind: .config))
    let root = try document.rootObject(describedAs: "kubectl get \(itemKind.lowercased())s -o json output")
    let kind = try root.string("kind")
    if kind == itemKind { return [root] }
    guard kind == "List" || kind == itemKind + "List" else {
      throw root.error("expected kind List, \(itemKind)List or \(itemKind), found \(kind.map { "\"\($0)\"" } ?? "none")", at: "kind")
    }
    let items = try root.objectArray("items") ?? []
    if items.count > AuditLimits.itemsPerList {
      throw root.error("more than \(AuditLimits.itemsPerList) items", at: "items")
    }
    for item in items {
      if let found = try item.string("kind"), found != itemKind {
        throw item.error("expected kind \(itemKind), found \(Escaping.quoted(found))", at: "kind")
      }
    }
    return items
  }

  /// A string field of at most `AuditLimits.stringBytes` bytes.
  static func bounded(_ object: ObjectReader, _ key: String) throws(PullwardenError) -> String? {
    guard let value = try object.string(key) else { return nil }
    if value.utf8.count > AuditLimits.stringBytes {
      throw object.error("\"\(key)\" is longer than \(AuditLimits.stringBytes) bytes", at: key)
    }
    return value
  }

  static func bounded(_ object: ObjectReader, _ key: String, required: Bool) throws(PullwardenError) -> String {
    guard let value = try bounded(object, key), !value.isEmpty else {
      throw object.error(object.contains(key) ? "\"\(key)\" must not be empty" : "missing required field \"\(key)\"", at: object.contains(key) ? key : nil)
    }
    return value
  }
}
