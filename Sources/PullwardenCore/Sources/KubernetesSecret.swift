/// Where a credential came from, as KEP-2535 pull records identify it.
public struct SecretCoordinates: Hashable, Sendable, CustomStringConvertible {
  public var namespace: String
  public var name: String
  public var uid: String

  public init(namespace: String, name: String, uid: String) {
    self.namespace = namespace
    self.name = name
    self.uid = uid
  }

  public var description: String { "\(namespace)/\(name)" }
}

/// A Kubernetes `Secret` object as the API returns it or `kubectl get secret -o yaml|json` saves it.
///
/// Only what Pullwarden needs is read; every other field (labels, managedFields, ...) is ignored, as
/// is normal for Kubernetes objects.
public struct KubernetesSecret: Sendable {
  public static let dockerConfigJSONType = "kubernetes.io/dockerconfigjson"
  public static let dockercfgType = "kubernetes.io/dockercfg"

  public var coordinates: SecretCoordinates
  public var type: String
  /// `data` decoded from base64, with `stringData` laid over it (as the API server merges them).
  public var data: [String: [UInt8]]
  /// Where the object was read from, for messages: `file:line:column`, or the file and path.
  ///
  /// Computed only when a message needs it: finding a line re-parses the YAML file, and doing that
  /// for every Secret of a List made reading one file quadratic (40 s for 1,000 Secrets).
  public var origin: String { document.location(of: path) }
  private let document: Document
  private let path: JSONPath

  /// Decodes a Secret object.
  ///
  /// - Parameter defaultNamespace: used when `metadata.namespace` is absent (hand-written manifests).
  public init(_ object: ObjectReader, defaultNamespace: String = "default") throws(PullwardenError) {
    let apiVersion = try object.string("apiVersion")
    if let apiVersion, apiVersion != "v1" {
      throw object.error("Secret apiVersion must be \"v1\", found \"\(apiVersion)\"", at: "apiVersion")
    }
    let kind = try object.string("kind")
    if let kind, kind != "Secret" { throw object.error("expected kind \"Secret\", found \"\(kind)\"", at: "kind") }
    guard let metadata = try object.object("metadata") else { throw object.error("Secret has no \"metadata\"") }
    let name = try metadata.requiredNonEmptyString("name")
    let namespace = try metadata.string("namespace") ?? defaultNamespace
    let uid = try metadata.string("uid") ?? ""
    type = try object.string("type") ?? "Opaque"

    var data: [String: [UInt8]] = [:]
    if let encoded = try object.stringMap("data") {
      for (key, value) in encoded {
        // Go decodes []byte JSON fields with base64.StdEncoding: padding is required.
        guard let bytes = Base64.decode(value, padding: .required) else {
          throw object.document.error("data value is not valid base64", at: object.path.appending("data").appending(key))
        }
        data[key] = bytes
      }
    }
    for (key, value) in try object.stringMap("stringData") ?? [:] {
      data[key] = Array(value.utf8)
    }
    self.data = data
    coordinates = SecretCoordinates(namespace: namespace, name: name, uid: uid)
    document = object.document
    path = object.path
  }

  /// Whether the Secret holds registry credentials (`kubernetes.io/dockerconfigjson` or `dockercfg`).
  public var isDockerSecret: Bool { type == Self.dockerConfigJSONType || type == Self.dockercfgType }

  /// The registry credentials inside a docker Secret, or nil for other types or an empty payload (the
  /// kubelet skips both).
  public func dockerConfig() throws(PullwardenError) -> DockerConfig? {
    let (key, format): (String, DockerConfig.Format)
    switch type {
    case Self.dockerConfigJSONType: (key, format) = (".dockerconfigjson", .configJSON)
    case Self.dockercfgType: (key, format) = (".dockercfg", .dockercfg)
    default: return nil
    }
    guard let payload = data[key], !payload.isEmpty else { return nil }
    // The file position is added only to an error (see `origin`).
    let name = "\(key) of Secret \(coordinates)"
    do {
      let document = Document(name: name, kind: .source, root: try JSON.parse(payload, document: name, kind: .source))
      return try DockerConfig.parse(document, format: format)
    } catch {
      throw PullwardenError(error.kind, error.what, at: (error.location ?? name) + " in " + origin)
    }
  }
}
