/// The kubelet's rules for adding credentials to a pulled record (`writePulledRecordIfChanged` and
/// `pulledRecordMergeNewCreds` in pkg/kubelet/images/pullmanager), reproduced exactly so that a
/// record written here is the record the kubelet would have written.
extension ImagePulledRecord {
  /// The record to write after `credentials` pulled image name `key` of `imageRef`, starting from
  /// `existing` (nil when there is none or it was unreadable); nil when nothing changes.
  ///
  /// A new record maps `key` to `credentials` as given (even unsorted); nil credentials make a record
  /// with no mapping ("pulled, credentials unknown": every pod must re-verify).
  public static func recording(
    _ credentials: ImagePullCredentials?, forImage key: String, imageRef: String, into existing: ImagePulledRecord?,
    now: Timestamp
  ) -> ImagePulledRecord? {
    guard var record = existing else {
      var created = ImagePulledRecord(lastUpdatedTime: now, imageRef: imageRef)
      if let credentials { created.credentialMapping[key] = credentials }
      return created
    }
    return record.merge(credentials, forImage: key, now: now) ? record : nil
  }

  /// Merges `credentials` into the mapping for `key`; returns whether the record changed (and then
  /// bumps `lastUpdatedTime`).
  ///
  /// - Node access is absorbing: once `key` is node-accessible nothing changes it, and new node access
  ///   replaces any Secrets and service accounts.
  /// - Secrets are a set keyed by (uid, namespace, name); a known Secret with a new hash replaces the
  ///   hash. Service accounts are a plain set. Both come out sorted by namespace, name, uid.
  /// - When both Secrets and service accounts are given, only the Secrets are merged (the kubelet
  ///   records one credential per pull, which has one source).
  /// - A new key keeps the credentials as given, unsorted.
  @discardableResult
  public mutating func merge(_ credentials: ImagePullCredentials?, forImage key: String, now: Timestamp) -> Bool {
    guard let credentials, !credentials.isEmpty else { return false }
    guard var selected = credentialMapping[key] else {
      credentialMapping[key] = credentials
      lastUpdatedTime = now
      return true
    }
    if selected.nodePodsAccessible { return false }
    if credentials.nodePodsAccessible {
      selected = ImagePullCredentials(nodePodsAccessible: true)
    } else if !credentials.kubernetesSecrets.isEmpty {
      guard let merged = Self.mergePullSecrets(selected.kubernetesSecrets, credentials.kubernetesSecrets) else { return false }
      selected.kubernetesSecrets = merged
    } else {
      guard let merged = Self.mergePullServiceAccounts(selected.kubernetesServiceAccounts, credentials.kubernetesServiceAccounts)
      else { return false }
      selected.kubernetesServiceAccounts = merged
    }
    credentialMapping[key] = selected
    lastUpdatedTime = now
    return true
  }

  /// `mergePullSecrets`: the union keyed by coordinates, new hashes winning, sorted; nil when unchanged.
  static func mergePullSecrets(_ original: [ImagePullSecret], _ new: [ImagePullSecret]) -> [ImagePullSecret]? {
    var hashes: [SecretCoordinates: String] = [:]
    for secret in original { hashes[SecretCoordinates(secret)] = secret.credentialHash }
    var changed = false
    for secret in new where hashes[SecretCoordinates(secret)] != secret.credentialHash {
      changed = true
      hashes[SecretCoordinates(secret)] = secret.credentialHash
    }
    guard changed else { return nil }
    return hashes.map { ImagePullSecret(uid: $0.key.uid, namespace: $0.key.namespace, name: $0.key.name, credentialHash: $0.value) }
      .sorted(by: ImagePullSecret.precedes)
  }

  /// `mergePullServiceAccounts`: the set union, sorted; nil when nothing was added.
  static func mergePullServiceAccounts(
    _ original: [ImagePullServiceAccount], _ new: [ImagePullServiceAccount]
  ) -> [ImagePullServiceAccount]? {
    var set = Set(original)
    var changed = false
    for account in new where set.insert(account).inserted { changed = true }
    guard changed else { return nil }
    return set.sorted(by: ImagePullServiceAccount.precedes)
  }
}

extension SecretCoordinates {
  init(_ secret: ImagePullSecret) {
    self.init(namespace: secret.namespace, name: secret.name, uid: secret.uid)
  }
}
