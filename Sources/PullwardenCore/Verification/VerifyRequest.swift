/// One question for the verifier: may a pod with these credentials use this image, already on the node?
///
/// ```
/// {"image": "docker.io/testing/test:latest",           the pod's container image, as written
///  "imageRef": "sha256:…",                             the CRI image ID; absent for Pullwarden's records
///  "podSecrets": [{"namespace":…,"name":…,"uid":…,"credentialHash":"…"}
///                 or {"namespace":…,"name":…,"uid":…,"dockerConfigJSON":{"auths":{…}}}],
///  "podServiceAccount": {"namespace":…,"name":…,"uid":…}}
/// ```
/// A Secret given as `dockerConfigJSON` (its `.dockerconfigjson`, or a legacy `.dockercfg` map)
/// yields one credential per registry entry the kubelet's keyring would use for the image, each
/// hashed as the kubelet hashes it; entries for other registries count for nothing. Unknown fields
/// are errors, so a misspelled field cannot silently change the answer.
public struct VerifyRequest: Sendable, Equatable {
  public static let sizeLimit = 1 << 20

  public var image: String
  public var imageRef: String?
  /// The pod's pull Secrets as the kubelet's `getPodCredentials` lists them: one entry per matching
  /// credential, each with its hash.
  public var podSecrets: [ImagePullSecret]
  public var podServiceAccount: ImagePullServiceAccount?

  public init(
    image: String, imageRef: String? = nil, podSecrets: [ImagePullSecret] = [],
    podServiceAccount: ImagePullServiceAccount? = nil
  ) {
    self.image = image
    self.imageRef = imageRef
    self.podSecrets = podSecrets
    self.podServiceAccount = podServiceAccount
  }

  /// Parses one request; `source` names it in errors ("stdin", "stdin line 3").
  public static func decode(_ bytes: [UInt8], source: String = "stdin") throws(PullwardenError) -> VerifyRequest {
    let root = try Document.request(
      bytes, source: source, sizeLimit: sizeLimit, expected: "a JSON object with \"image\"", describedAs: "verify request")
    try root.rejectUnknownKeys(["image", "imageRef", "podSecrets", "podServiceAccount"])
    let image = try root.requiredNonEmptyString("image")
    var request = VerifyRequest(image: image, imageRef: try root.string("imageRef"))
    for secret in try root.objectArray("podSecrets") ?? [] {
      request.podSecrets += try podSecretCredentials(secret, image: image)
    }
    if let account = try root.object("podServiceAccount") {
      try account.rejectUnknownKeys(["namespace", "name", "uid"])
      request.podServiceAccount = ImagePullServiceAccount(
        uid: try account.requiredString("uid"), namespace: try account.requiredString("namespace"),
        name: try account.requiredString("name"))
    }
    return request
  }

  /// The tracked credentials of one pod Secret for `image`.
  private static func podSecretCredentials(_ secret: ObjectReader, image: String) throws(PullwardenError) -> [ImagePullSecret] {
    try secret.rejectUnknownKeys(["namespace", "name", "uid", "credentialHash", "dockerConfigJSON"])
    let namespace = try secret.requiredString("namespace")
    let name = try secret.requiredString("name")
    let uid = try secret.requiredString("uid")
    let hash = try secret.string("credentialHash")
    let config = try secret.object("dockerConfigJSON")
    switch (hash, config) {
    case (let hash?, nil):
      return [ImagePullSecret(uid: uid, namespace: namespace, name: name, credentialHash: hash)]
    case (nil, let config?):
      let document = Document(name: secret.document.name, kind: .request, root: .object(config.object))
      let entries: [DockerConfig.Entry]
      do {
        entries = try DockerConfig.parse(document, format: nil).entries
      } catch {
        throw secret.error("dockerConfigJSON: \(error.what)", at: "dockerConfigJSON")
      }
      // Parsed here, not per request: most callers send hashes, and parsing is a good part of the
      // cost of a batch decision. An image that does not parse matches no key.
      guard let image = try? ImageReference(parsing: image) else { return [] }
      return DockerConfig.trackedSecrets(entries, for: image, uid: uid, namespace: namespace, name: name)
    case (_?, _?):
      throw secret.error("give either \"credentialHash\" or \"dockerConfigJSON\", not both")
    case (nil, nil):
      throw secret.error("missing \"credentialHash\" or \"dockerConfigJSON\"")
    }
  }
}

extension DockerConfig {
  /// The kubelet's tracked credentials of one pull Secret for `image`: one entry per registry key that
  /// matches the image, the most specific key first (reverse byte order, as AuthKeys explains), each
  /// with its credential hash. Keys for other registries contribute nothing.
  public static func trackedSecrets(
    _ entries: [Entry], for image: ImageReference, uid: String, namespace: String, name: String
  ) -> [ImagePullSecret] {
    entries.filter { $0.key?.matches(image) == true }
      .sorted { $1.key!.text.utf8.lexicographicallyPrecedes($0.key!.text.utf8) }
      .map { ImagePullSecret(uid: uid, namespace: namespace, name: name, credentialHash: CredentialHash.of($0.credential)) }
  }
}
