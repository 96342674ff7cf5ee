/// Records, inside `pullwarden provide`, which credentials were handed out for an image.
///
/// The provider never learns the CRI image ID, so the record is keyed by the normalized image name
/// (the request's `image`, e.g. `docker.io/library/nginx`), which is both its `imageRef` and its
/// `credentialMapping` key. Each handed-out credential contributes by its origin, with the kubelet's
/// merge rules:
/// - a credential with no Secret and no service account is node-wide: `nodePodsAccessible`, which
///   absorbs everything else for the image (every pod on the node is given it);
/// - a Secret contributes `{uid, namespace, name, credentialHash}`;
/// - a service account (KEP-4412 credentials) contributes `{uid, namespace, name}`, without a hash;
/// - a credential with both contributes both entries (the Secret first), so a pod matching either
///   may reuse the image.
/// Each entry's expiry, kept in the record's companion file, is the earlier of the credential's own
/// expiry (a token's) and the end of the response's `cacheDuration`; a later provide extends it.
public struct PullRecorder: Sendable {
  public let store: RecordStore

  public init(directory: String) {
    store = RecordStore(directory: directory)
  }

  /// The record contributions of `handedOut`: node access, Secrets, service accounts, each once, in
  /// the order they were handed out, with the expiry of each.
  struct Contributions {
    var nodeAccess: Timestamp?
    var secrets: [(ImagePullSecret, Timestamp)] = []
    var serviceAccounts: [(ImagePullServiceAccount, Timestamp)] = []

    init(_ handedOut: [SuppliedCredential], now: Timestamp, validFor duration: GoDuration) {
      let cap = now.adding(max(duration, .zero))
      for item in handedOut {
        let expiry = item.expiresAt.map { min($0, cap) } ?? cap
        if item.origin.isNodeWide {
          nodeAccess = nodeAccess.map { max($0, expiry) } ?? expiry
          continue
        }
        if let secret = item.origin.secret {
          let entry = ImagePullSecret(
            uid: secret.uid, namespace: secret.namespace, name: secret.name, credentialHash: CredentialHash.of(item.credential))
          Self.add(entry, expiry, to: &secrets)
        }
        if let account = item.origin.serviceAccount {
          Self.add(account, expiry, to: &serviceAccounts)
        }
      }
    }

    private static func add<T: Equatable>(_ entry: T, _ expiry: Timestamp, to list: inout [(T, Timestamp)]) {
      if let index = list.firstIndex(where: { $0.0 == entry }) {
        list[index].1 = max(list[index].1, expiry)
      } else {
        list.append((entry, expiry))
      }
    }

    /// Each source kind as one kubelet-style credential set, node access first.
    var credentialSets: [ImagePullCredentials] {
      var sets: [ImagePullCredentials] = []
      if nodeAccess != nil { sets.append(ImagePullCredentials(nodePodsAccessible: true)) }
      if !secrets.isEmpty { sets.append(ImagePullCredentials(kubernetesSecrets: secrets.map(\.0))) }
      if !serviceAccounts.isEmpty { sets.append(ImagePullCredentials(kubernetesServiceAccounts: serviceAccounts.map(\.0))) }
      return sets
    }
  }

  /// Merges `handedOut` into the record for `image` (a normalized image name): `prepare`, then
  /// `commit`, for callers that hand nothing out in between. Does nothing when no credential was
  /// handed out.
  @discardableResult
  public func record(
    _ handedOut: [SuppliedCredential], image: String, validFor duration: GoDuration, now: Timestamp,
    diagnostics: Diagnostics = .discard
  ) throws(PullwardenError) -> RecordStore.UpdateResult {
    guard let pending = try prepare(handedOut, image: image, validFor: duration, now: now) else {
      return RecordStore.UpdateResult()
    }
    return commit(pending, diagnostics: diagnostics)
  }

  /// Credentials about to be handed out, whose intent (if one was needed) is durable.
  public struct Pending {
    let handedOut: [SuppliedCredential]
    let image: String
    let duration: GoDuration
    let now: Timestamp
    /// A trusted record already existed, so no intent was written (nor is one removed).
    let hadRecord: Bool
    /// The record, locked and read before the answer and updated after it (the lock is held while
    /// this lives); nil when the lock could not be taken then: `commit` tries again, and a failure
    /// there only warns, as for any record that cannot be written after the answer.
    let locked: RecordStore.LockedEntry?
  }

  /// The first half, before the answer: intent before answer, as the kubelet's `RecordPullIntent`
  /// before a pull. Unless a trusted record for the image already exists (it keeps the image counting
  /// as pulled whatever happens next, and records are never deleted), a durable pull intent is
  /// written. If even that fails, this throws and the caller must not hand the credentials out.
  /// The record's lock is taken here and held until the returned value is gone, so `commit` updates
  /// exactly what was read here.
  ///
  /// - Parameter duration: how long the kubelet may reuse the response (its `cacheDuration`).
  /// - Returns: nil when nothing is handed out.
  public func prepare(
    _ handedOut: [SuppliedCredential], image: String, validFor duration: GoDuration, now: Timestamp
  ) throws(PullwardenError) -> Pending? {
    guard !handedOut.isEmpty else { return nil }
    // Only where the lock directory exists: creating it is a write, and here a failed one would be
    // retried by `commit` without a word. A store's first call keeps the order intent, then record.
    let locked = try? store.lockForUpdate(imageRef: image, creatingLockDirectory: false)
    let hadRecord = locked?.hasRecord ?? store.hasRecord(imageRef: image)
    if !hadRecord { try store.recordIntent(image: image) }
    return Pending(handedOut: handedOut, image: image, duration: duration, now: now, hadRecord: hadRecord, locked: locked)
  }

  /// The second half, once the answer is out: as the kubelet records a pull only after it
  /// succeeded, a credential is recorded only once it was handed out, so a run killed before it
  /// answered never leaves evidence that a pod may reuse the image. A record that cannot be written
  /// (full disk, read-only file system, unusable lock, a directory planted where a file belongs) is a
  /// warning: the intent stays, so the verifier asks every pod to re-verify the image. The intent is
  /// removed once the record holds the credentials.
  @discardableResult
  public func commit(_ pending: Pending, diagnostics: Diagnostics = .discard) -> RecordStore.UpdateResult {
    commitReporting(pending, diagnostics: diagnostics).result
  }

  /// `commit`, also saying why the record was not written (for the decision log and metrics).
  func commitReporting(_ pending: Pending, diagnostics: Diagnostics = .discard) -> (result: RecordStore.UpdateResult, failure: String?) {
    do {
      let result = try merge(
        pending.handedOut, image: pending.image, validFor: pending.duration, now: pending.now, locked: pending.locked,
        diagnostics: diagnostics)
      if !pending.hadRecord { store.removeIntent(image: pending.image) }
      return (result, nil)
    } catch {
      diagnostics.warn(
        "credentials for \(pending.image) were not recorded: \(error); \(pending.hadRecord ? "its existing record" : "its pull intent") stays, so pods without a recorded credential must re-verify it")
      return (RecordStore.UpdateResult(), "\(error)")
    }
  }

  private func merge(
    _ handedOut: [SuppliedCredential], image: String, validFor duration: GoDuration, now: Timestamp,
    locked: RecordStore.LockedEntry?, diagnostics: Diagnostics
  ) throws(PullwardenError) -> RecordStore.UpdateResult {
    let contributions = Contributions(handedOut, now: now, validFor: duration)
    let change = { (record: inout ImagePulledRecord?, expiry: inout CredentialExpiry?) in
      var current = record
      for credentials in contributions.credentialSets {
        if let changed = ImagePulledRecord.recording(credentials, forImage: image, imageRef: image, into: current, now: now) {
          current = changed
        }
      }
      // Pullwarden writes v1beta1, migrating an older file as the kubelet does at start-up.
      current?.apiVersion = .v1beta1
      record = current

      var companion = expiry ?? CredentialExpiry(imageRef: image)
      companion.lastUpdatedTime = now
      if let node = contributions.nodeAccess { companion.extendNodeAccess(image, until: node) }
      for (secret, time) in contributions.secrets { companion.extend(secret, for: image, until: time) }
      for (account, time) in contributions.serviceAccounts { companion.extend(account, for: image, until: time) }
      expiry = companion
    }
    if let locked { return try store.update(locked, diagnostics: diagnostics, change) }
    return try store.update(imageRef: image, diagnostics: diagnostics, change)
  }
}
