/// The `credentialprovider.kubelet.k8s.io` versions the kubelet may speak; a response must carry the
/// request's version exactly.
public enum ProtocolVersion: String, CaseIterable, Sendable {
  case v1 = "credentialprovider.kubelet.k8s.io/v1"
  case v1beta1 = "credentialprovider.kubelet.k8s.io/v1beta1"
  case v1alpha1 = "credentialprovider.kubelet.k8s.io/v1alpha1"
}

/// How widely the kubelet may reuse a response (`cacheKeyType`, case-sensitive on the wire).
public enum CacheKeyType: String, CaseIterable, Sendable, Comparable {
  /// Only for the requested image (repository).
  case image = "Image"
  /// For every image in the requested image's registry (host and port).
  case registry = "Registry"
  /// For every image this provider is configured to match in the kubelet.
  case global = "Global"

  /// Narrower types sort first, so `min` of several is the safe combination.
  public static func < (lhs: CacheKeyType, rhs: CacheKeyType) -> Bool {
    let order: [CacheKeyType] = [.image, .registry, .global]
    return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
  }
}

/// One `CredentialProviderRequest` read from stdin.
public struct CredentialProviderRequest: Sendable {
  public static let kind = "CredentialProviderRequest"
  /// Requests larger than this are refused before parsing (the kubelet's are a few KiB).
  public static let sizeLimit = 1 << 20

  public var apiVersion: ProtocolVersion
  /// The image as sent (the kubelet sends a repository name with no tag).
  public var image: String
  /// The image parsed and normalized; matching and records use `reference.name`.
  public var reference: ImageReference
  /// A bound service-account token for the pod (KEP-4412); absent unless the kubelet is configured
  /// with `tokenAttributes` and the pod has a service account.
  public var serviceAccountToken: String?
  /// The service account's annotations the kubelet was configured to pass.
  public var serviceAccountAnnotations: [String: String]

  public init(
    apiVersion: ProtocolVersion, image: String, serviceAccountToken: String? = nil,
    serviceAccountAnnotations: [String: String] = [:]
  ) throws(ImageReference.ParseError) {
    self.apiVersion = apiVersion
    self.image = image
    self.reference = try ImageReference(parsing: image)
    self.serviceAccountToken = serviceAccountToken
    self.serviceAccountAnnotations = serviceAccountAnnotations
  }

  /// Parses a request strictly: duplicate keys, wrong types, a missing or unknown `kind` or
  /// `apiVersion`, and an empty or invalid `image` are errors. Unknown extra fields are ignored, so a
  /// newer kubelet adding fields does not break the plugin.
  public static func decode(_ bytes: [UInt8], source: String = "stdin") throws(PullwardenError) -> CredentialProviderRequest {
    let reader = try Document.request(
      bytes, source: source, sizeLimit: sizeLimit, expected: "a CredentialProviderRequest as JSON", describedAs: "request")

    guard reader.contains("kind") else { throw reader.error("missing \"kind\" (expected \"\(kind)\")") }
    let kindValue = try reader.requiredString("kind")
    guard kindValue == kind else {
      throw reader.error("unsupported kind \"\(kindValue)\" (expected \"\(kind)\")", at: "kind")
    }
    guard reader.contains("apiVersion") else {
      throw reader.error("missing \"apiVersion\" (expected one of \(ProtocolVersion.allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    let versionText = try reader.requiredString("apiVersion")
    guard let version = ProtocolVersion(rawValue: versionText) else {
      throw reader.error(
        "unsupported apiVersion \"\(versionText)\" (expected one of \(ProtocolVersion.allCases.map(\.rawValue).joined(separator: ", ")))",
        at: "apiVersion")
    }
    let image = try reader.requiredString("image")
    if image.isEmpty { throw reader.error("\"image\" is empty", at: "image") }
    let token = try reader.string("serviceAccountToken")
    let annotations = try reader.stringMap("serviceAccountAnnotations") ?? [:]
    do {
      return try CredentialProviderRequest(
        apiVersion: version, image: image,
        serviceAccountToken: token?.isEmpty == true ? nil : token,
        serviceAccountAnnotations: annotations)
    } catch {
      throw reader.error("invalid image \"\(image)\": \(error)", at: "image")
    }
  }
}
