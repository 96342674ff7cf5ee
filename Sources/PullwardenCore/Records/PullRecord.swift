/// The kubelet's KEP-2535 record types (`k8s.io/kubelet/config/v1beta1`, also `v1alpha1`), read and
/// written exactly as the kubelet reads and writes them.
///
/// Decoding is strict like the kubelet's codec (`serializer.EnableStrict`): `kind` and `apiVersion`
/// must be present and known, unknown fields are an error, and a field of the wrong JSON type is an
/// error; `null` or a missing field leaves the Go zero value. Encoding reproduces the kubelet's bytes:
/// compact JSON with `kind`, `apiVersion`, then the fields in declaration order, `credentialMapping`
/// keys sorted, empty lists and `false` left out (`omitempty`), a trailing newline.
public enum RecordAPIVersion: String, Sendable, CaseIterable {
  /// Written by kubelets 1.33 and 1.34; still read by later ones, which migrate it.
  case v1alpha1 = "kubelet.config.k8s.io/v1alpha1"
  /// Written by kubelets 1.35 and later, and by Pullwarden.
  case v1beta1 = "kubelet.config.k8s.io/v1beta1"
}

/// A pod pull Secret as a record names it. No field is optional in the kubelet's type.
public struct ImagePullSecret: Hashable, Sendable, CustomStringConvertible {
  public var uid: String
  public var namespace: String
  public var name: String
  /// Hex SHA-256 of the credential (see `CredentialHash`); "" when the kubelet could not hash it.
  public var credentialHash: String

  public init(uid: String, namespace: String, name: String, credentialHash: String) {
    self.uid = uid
    self.namespace = namespace
    self.name = name
    self.credentialHash = credentialHash
  }

  public var description: String { "Secret \(namespace)/\(name) (uid \(uid))" }

  /// The same Secret object (the kubelet's `kubeSecretCoordinates`): uid, namespace and name.
  public func hasCoordinates(of other: ImagePullSecret) -> Bool {
    uid == other.uid && namespace == other.namespace && name == other.name
  }

  /// The kubelet's `imagePullSecretLess`: namespace, then name, then uid, byte-wise.
  static func precedes(_ a: ImagePullSecret, _ b: ImagePullSecret) -> Bool {
    byteOrder([a.namespace, a.name, a.uid], [b.namespace, b.name, b.uid])
  }
}

/// A service account as a record names it (KEP-4412 credentials; no hash is kept): the same identity
/// a credential's origin carries.
public typealias ImagePullServiceAccount = ServiceAccountCoordinates

extension ServiceAccountCoordinates {
  /// In the kubelet's field order.
  public init(uid: String, namespace: String, name: String) {
    self.init(namespace: namespace, name: name, uid: uid)
  }

  /// "service account <namespace>/<name> (uid <uid>)", for decisions and reports.
  public var labelled: String { "service account \(namespace)/\(name) (uid \(uid))" }

  /// The kubelet's `imagePullServiceAccountLess`: namespace, then name, then uid, byte-wise.
  static func precedes(_ a: ServiceAccountCoordinates, _ b: ServiceAccountCoordinates) -> Bool {
    byteOrder([a.namespace, a.name, a.uid], [b.namespace, b.name, b.uid])
  }
}

/// Who may use an image name: every pod on the node, or pods with one of these Secrets or service
/// accounts.
public struct ImagePullCredentials: Hashable, Sendable {
  public var kubernetesSecrets: [ImagePullSecret]
  public var kubernetesServiceAccounts: [ImagePullServiceAccount]
  public var nodePodsAccessible: Bool

  public init(
    kubernetesSecrets: [ImagePullSecret] = [], kubernetesServiceAccounts: [ImagePullServiceAccount] = [],
    nodePodsAccessible: Bool = false
  ) {
    self.kubernetesSecrets = kubernetesSecrets
    self.kubernetesServiceAccounts = kubernetesServiceAccounts
    self.nodePodsAccessible = nodePodsAccessible
  }

  /// Nothing to record: no node access, no Secret, no service account.
  public var isEmpty: Bool { !nodePodsAccessible && kubernetesSecrets.isEmpty && kubernetesServiceAccounts.isEmpty }
}

/// `ImagePulledRecord`: which credentials pulled which image names of one image (`imageRef`).
public struct ImagePulledRecord: Equatable, Sendable {
  public static let kind = "ImagePulledRecord"

  public var apiVersion: RecordAPIVersion
  /// nil is Go's zero time, written as `null`.
  public var lastUpdatedTime: Timestamp?
  /// The CRI image ID in the kubelet's records; the image name in Pullwarden's (see `RecordStore`).
  public var imageRef: String
  /// By image name without tag or digest. Empty means "pulled, credentials unknown".
  public var credentialMapping: [String: ImagePullCredentials]

  public init(
    apiVersion: RecordAPIVersion = .v1beta1, lastUpdatedTime: Timestamp?, imageRef: String,
    credentialMapping: [String: ImagePullCredentials] = [:]
  ) {
    self.apiVersion = apiVersion
    self.lastUpdatedTime = lastUpdatedTime
    self.imageRef = imageRef
    self.credentialMapping = credentialMapping
  }

  /// Decodes a record file strictly; errors name `name` (the file) and the field.
  public static func decode(_ bytes: [UInt8], name: String) throws(PullwardenError) -> ImagePulledRecord {
    let root = try RecordCoding.object(bytes, name: name, kind: kind)
    let version = try RecordCoding.version(root, kind: kind)
    try root.rejectUnknownKeys(["kind", "apiVersion", "lastUpdatedTime", "imageRef", "credentialMapping"])
    let time = try RecordCoding.time(root, "lastUpdatedTime")
    var mapping: [String: ImagePullCredentials] = [:]
    if let entries = try root.object("credentialMapping") {
      for member in entries.object.members {
        guard case .object(let fields) = member.value else {
          throw entries.error("credentials must be an object, found \(member.value.typeName)", at: member.key)
        }
        let reader = ObjectReader(object: fields, path: entries.path.appending(member.key), document: entries.document)
        mapping[member.key] = try RecordCoding.credentials(reader)
      }
    }
    return ImagePulledRecord(
      apiVersion: version, lastUpdatedTime: time, imageRef: try root.string("imageRef") ?? "", credentialMapping: mapping)
  }

  public var json: JSONValue {
    var object = RecordCoding.typeMeta(Self.kind, apiVersion)
    object["lastUpdatedTime"] = lastUpdatedTime.map { .string($0.rfc3339) } ?? .null
    object["imageRef"] = .string(imageRef)
    if !credentialMapping.isEmpty {
      var mapping = JSONObject()
      for key in credentialMapping.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
        mapping[key] = RecordCoding.json(credentialMapping[key]!)
      }
      object["credentialMapping"] = .object(mapping)
    }
    return .object(object)
  }

  /// The file content, byte for byte what the kubelet writes for the same record.
  public func encoded() -> [UInt8] {
    GoJSON.encode(json) + [UInt8(ascii: "\n")]
  }
}

/// `ImagePullIntent`: the kubelet is pulling `image` (the pod's image string exactly as written).
public struct ImagePullIntent: Equatable, Sendable {
  public static let kind = "ImagePullIntent"

  public var apiVersion: RecordAPIVersion
  public var image: String

  public init(apiVersion: RecordAPIVersion = .v1beta1, image: String) {
    self.apiVersion = apiVersion
    self.image = image
  }

  public static func decode(_ bytes: [UInt8], name: String) throws(PullwardenError) -> ImagePullIntent {
    let root = try RecordCoding.object(bytes, name: name, kind: kind)
    let version = try RecordCoding.version(root, kind: kind)
    try root.rejectUnknownKeys(["kind", "apiVersion", "image"])
    return ImagePullIntent(apiVersion: version, image: try root.string("image") ?? "")
  }

  public func encoded() -> [UInt8] {
    var object = RecordCoding.typeMeta(Self.kind, apiVersion)
    object["image"] = .string(image)
    return GoJSON.encode(.object(object)) + [UInt8(ascii: "\n")]
  }
}

/// Shared pieces of the strict decoding and the Go-shaped encoding.
enum RecordCoding {
  static func object(_ bytes: [UInt8], name: String, kind: String) throws(PullwardenError) -> ObjectReader {
    let document = Document(name: name, kind: .records, root: try JSON.parse(bytes, document: name, kind: .records))
    return try document.rootObject(describedAs: kind)
  }

  static func version(_ root: ObjectReader, kind: String) throws(PullwardenError) -> RecordAPIVersion {
    guard let found = try root.string("kind"), !found.isEmpty else { throw root.error("missing \"kind\" (expected \"\(kind)\")") }
    if found != kind { throw root.error("kind \"\(found)\" is not \"\(kind)\"", at: "kind") }
    guard let text = try root.string("apiVersion"), !text.isEmpty else {
      throw root.error("missing \"apiVersion\"")
    }
    guard let version = RecordAPIVersion(rawValue: text) else {
      let known = RecordAPIVersion.allCases.map(\.rawValue).joined(separator: " or ")
      throw root.error("unsupported apiVersion \"\(text)\" (expected \(known))", at: "apiVersion")
    }
    return version
  }

  /// A `metav1.Time`: RFC 3339, or null for the zero time.
  static func time(_ reader: ObjectReader, _ key: String) throws(PullwardenError) -> Timestamp? {
    guard let text = try reader.string(key) else { return nil }
    guard let time = Timestamp(rfc3339: text) else {
      throw reader.error("\"\(key)\" is not an RFC 3339 time between the years 1678 and 2261", at: key)
    }
    return time
  }

  static func credentials(_ reader: ObjectReader) throws(PullwardenError) -> ImagePullCredentials {
    try reader.rejectUnknownKeys(["kubernetesSecrets", "kubernetesServiceAccounts", "nodePodsAccessible"])
    var credentials = ImagePullCredentials(nodePodsAccessible: try reader.bool("nodePodsAccessible") ?? false)
    for secret in try reader.objectArray("kubernetesSecrets") ?? [] {
      try secret.rejectUnknownKeys(["uid", "namespace", "name", "credentialHash"])
      credentials.kubernetesSecrets.append(
        ImagePullSecret(
          uid: try secret.string("uid") ?? "", namespace: try secret.string("namespace") ?? "",
          name: try secret.string("name") ?? "", credentialHash: try secret.string("credentialHash") ?? ""))
    }
    for account in try reader.objectArray("kubernetesServiceAccounts") ?? [] {
      try account.rejectUnknownKeys(["uid", "namespace", "name"])
      credentials.kubernetesServiceAccounts.append(
        ImagePullServiceAccount(
          uid: try account.string("uid") ?? "", namespace: try account.string("namespace") ?? "",
          name: try account.string("name") ?? ""))
    }
    return credentials
  }

  static func typeMeta(_ kind: String, _ version: RecordAPIVersion) -> JSONObject {
    ["kind": .string(kind), "apiVersion": .string(version.rawValue)]
  }

  static func json(_ credentials: ImagePullCredentials) -> JSONValue {
    var object = JSONObject()
    if !credentials.kubernetesSecrets.isEmpty {
      object["kubernetesSecrets"] = .array(credentials.kubernetesSecrets.map { .object(json($0)) })
    }
    if !credentials.kubernetesServiceAccounts.isEmpty {
      object["kubernetesServiceAccounts"] = .array(credentials.kubernetesServiceAccounts.map { .object(json($0)) })
    }
    if credentials.nodePodsAccessible { object["nodePodsAccessible"] = .bool(true) }
    return .object(object)
  }

  static func json(_ secret: ImagePullSecret) -> JSONObject {
    [
      "uid": .string(secret.uid), "namespace": .string(secret.namespace), "name": .string(secret.name),
      "credentialHash": .string(secret.credentialHash),
    ]
  }

  static func json(_ account: ImagePullServiceAccount) -> JSONObject {
    ["uid": .string(account.uid), "namespace": .string(account.namespace), "name": .string(account.name)]
  }
}

/// Go's `strings.Compare` over a list of fields: byte-wise, field by field.
func byteOrder(_ a: [String], _ b: [String]) -> Bool {
  for (x, y) in zip(a, b) where !x.utf8.elementsEqual(y.utf8) {
    return x.utf8.lexicographicallyPrecedes(y.utf8)
  }
  return false
}
