/// `staleIfError` for `kubernetesSecrets`: the last Secrets the API server returned for a service
/// account, kept in the credential cache so an API outage does not stop pods from starting.
///
/// Secrets carry no expiry, so the entry lives for the configured window from the successful read
/// (its file's modification time, as for every cache entry). Every successful read replaces it, so a
/// Secret removed from the service account leaves the cache at the next read. Only an outage
/// (`PullwardenError.isOutage`) serves it; a refusal or a malformed answer never does. Without
/// `staleIfError` nothing about Secrets is written.
struct StaleSecrets {
  /// The credentials as the source obtained them, and when.
  struct Kept {
    var credentials: [SuppliedCredential]
    var fetchedAt: Timestamp
    var expiresAt: Timestamp
  }

  /// A service account may name up to 256 Secrets, each with several registries.
  static let entryLimit = 1 << 20

  let cache: CredentialCache
  let name: String
  let window: GoDuration
  let sourceName: String

  /// The entry of `source` for this token (or service account, with `keyBy: serviceAccount`); nil
  /// when `staleIfError` is off or the cache directory cannot be used (with a warning).
  init?(source: KubernetesSecretsSource, server: HTTPSURL, token: ServiceAccountToken, context: ProvideContext) {
    guard let window = source.staleIfError, let cache = context.credentialCache else { return nil }
    // The parameters that decide which Secrets are read: another configuration gets another entry.
    let identity =
      [server.text, source.imagePullSecrets ? "imagePullSecrets" : "-", source.secretsAnnotation ?? "-"]
      + source.secretNames
    name = cache.entryName(
      source: KubernetesSecretsSource.typeName, sourceName: source.common.name, token: token,
      annotations: context.request.serviceAccountAnnotations, identity: identity)
    guard cache.prepareDirectory() else { return nil }
    self.cache = cache
    self.window = window
    sourceName = source.common.name
  }

  /// Replaces the entry with what a successful read obtained.
  func store(_ credentials: [SuppliedCredential], now: Timestamp) {
    var entry = JSONObject()
    entry["fetchedAt"] = .string(now.rfc3339)
    entry["credentials"] = .array(
      credentials.map { item in
        var object = JSONObject()
        object["key"] = .string(item.key.text)
        object["username"] = .string(item.credential.username)
        object["password"] = .string(item.credential.password)
        if !item.credential.email.isEmpty { object["email"] = .string(item.credential.email) }
        if let secret = item.origin.secret { object["secret"] = Self.coordinates(secret.namespace, secret.name, secret.uid) }
        if let account = item.origin.serviceAccount {
          object["serviceAccount"] = Self.coordinates(account.namespace, account.name, account.uid)
        }
        return .object(object)
      })
    cache.storeEntry(entry, as: name, expiresAt: now.adding(window), now: now, limit: Self.entryLimit)
  }

  /// The kept Secrets while the entry has not expired.
  func load(now: Timestamp) -> Kept? {
    let kept = cache.loadEntry(name, limit: Self.entryLimit) { entry, expiresAt -> Kept? in
      guard case .string(let fetched)? = entry["fetchedAt"], let fetchedAt = Timestamp(rfc3339: fetched),
        case .array(let items)? = entry["credentials"]
      else { return nil }
      var credentials: [SuppliedCredential] = []
      for item in items {
        guard case .object(let object) = item, let keyText = object["key"]?.stringValue,
          let key = RegistryKey(normalizing: keyText), let username = object["username"]?.stringValue,
          let password = object["password"]?.stringValue
        else { return nil }
        let secret = Self.coordinates(object["secret"]).map { SecretCoordinates(namespace: $0.0, name: $0.1, uid: $0.2) }
        let account = Self.coordinates(object["serviceAccount"]).map {
          ServiceAccountCoordinates(namespace: $0.0, name: $0.1, uid: $0.2)
        }
        credentials.append(
          SuppliedCredential(
            key: key,
            credential: RegistryCredential(username: username, password: password, email: object["email"]?.stringValue ?? ""),
            origin: CredentialOrigin(secret: secret, serviceAccount: account), sourceName: sourceName))
      }
      return Kept(credentials: credentials, fetchedAt: fetchedAt, expiresAt: expiresAt)
    }
    guard let kept, now < kept.expiresAt else { return nil }
    return kept
  }

  /// The kept Secrets in place of a read that failed with `error`, when it is an outage and an
  /// unexpired copy exists, with a warning; otherwise `error` itself.
  func bridge(_ error: PullwardenError, context: ProvideContext) throws(PullwardenError) -> [SuppliedCredential] {
    guard error.isOutage, let kept = load(now: context.now) else { throw error }
    context.diagnostics.warn(
      "source \(quoted: sourceName): \(error); serving its cached Secrets, fetched at \(kept.fetchedAt.rfc3339), served until \(kept.expiresAt.rfc3339) (staleIfError)")
    context.advice.noteStaleCredential(source: sourceName, servedUntil: kept.expiresAt)
    return kept.credentials
  }

  private static func coordinates(_ namespace: String, _ name: String, _ uid: String) -> JSONValue {
    .object(["namespace": .string(namespace), "name": .string(name), "uid": .string(uid)])
  }

  private static func coordinates(_ value: JSONValue?) -> (String, String, String)? {
    guard case .object(let object)? = value, let namespace = object["namespace"]?.stringValue,
      let name = object["name"]?.stringValue, let uid = object["uid"]?.stringValue
    else { return nil }
    return (namespace, name, uid)
  }
}
