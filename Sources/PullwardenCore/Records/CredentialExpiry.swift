/// Pullwarden's extra facts about a pulled record: when each recorded credential stops counting.
///
/// The kubelet's `ImagePulledRecord` has no place for them, and its strict decoder refuses unknown
/// fields, so they live in a companion file of their own kind, `<recordsDir>/pullwarden-expiry/` next
/// to `pulled/`, with the same file name as the record. Record files stay exactly what a kubelet would
/// write and read, and a kubelet's own `image_manager` directory (no companion files) reads as
/// "credentials never expire", which is the kubelet's own rule.
///
/// The companion mirrors the record's `credentialMapping`, each entry with its `expiresAt`:
/// ```
/// {"kind":"CredentialExpiry","apiVersion":"pullwarden.dev/v1alpha1","lastUpdatedTime":"…","imageRef":"…",
///  "credentialMapping":{"<image>":{"kubernetesSecrets":[{"uid":…,"namespace":…,"name":…,"credentialHash":…,"expiresAt":"…"}],
///                                  "kubernetesServiceAccounts":[{"uid":…,"namespace":…,"name":…,"expiresAt":"…"}],
///                                  "nodePodsAccessibleExpiresAt":"…"}}}
/// ```
/// `lastUpdatedTime` is the last time Pullwarden handed out a credential for the image (the record's
/// own time changes only when its credentials do). Once a companion exists, a record entry missing
/// from it counts as expired: its expiry is unknown, and unknown must not allow reuse.
public struct CredentialExpiry: Equatable, Sendable {
  public static let kind = "CredentialExpiry"
  public static let apiVersion = "pullwarden.dev/v1alpha1"
  /// Companion files live here, below the records directory.
  public static let directoryName = "pullwarden-expiry"

  public var imageRef: String
  public var lastUpdatedTime: Timestamp?
  public var images: [String: Entries]

  /// Expiry times for the credentials of one image name.
  public struct Entries: Equatable, Sendable {
    public var nodePodsAccessible: Timestamp?
    public var secrets: [ImagePullSecret: Timestamp] = [:]
    public var serviceAccounts: [ImagePullServiceAccount: Timestamp] = [:]

    public init(nodePodsAccessible: Timestamp? = nil) {
      self.nodePodsAccessible = nodePodsAccessible
    }

    var isEmpty: Bool { nodePodsAccessible == nil && secrets.isEmpty && serviceAccounts.isEmpty }
  }

  public init(imageRef: String, lastUpdatedTime: Timestamp? = nil, images: [String: Entries] = [:]) {
    self.imageRef = imageRef
    self.lastUpdatedTime = lastUpdatedTime
    self.images = images
  }

  // MARK: Updating

  /// Records that node access to `key` holds until at least `time` (a later time already known wins).
  public mutating func extendNodeAccess(_ key: String, until time: Timestamp) {
    images[key, default: Entries()].nodePodsAccessible = later(images[key]?.nodePodsAccessible, time)
  }

  public mutating func extend(_ secret: ImagePullSecret, for key: String, until time: Timestamp) {
    images[key, default: Entries()].secrets[secret] = later(images[key]?.secrets[secret], time)
  }

  public mutating func extend(_ account: ImagePullServiceAccount, for key: String, until time: Timestamp) {
    images[key, default: Entries()].serviceAccounts[account] = later(images[key]?.serviceAccounts[account], time)
  }

  /// Drops entries for credentials the record no longer holds, so the file never outgrows it.
  public mutating func prune(keeping record: ImagePulledRecord) {
    var kept: [String: Entries] = [:]
    for (key, entries) in images {
      guard let credentials = record.credentialMapping[key] else { continue }
      var entry = Entries(nodePodsAccessible: credentials.nodePodsAccessible ? entries.nodePodsAccessible : nil)
      let secrets = Set(credentials.kubernetesSecrets)
      entry.secrets = entries.secrets.filter { secrets.contains($0.key) }
      let accounts = Set(credentials.kubernetesServiceAccounts)
      entry.serviceAccounts = entries.serviceAccounts.filter { accounts.contains($0.key) }
      if !entry.isEmpty { kept[key] = entry }
    }
    images = kept
  }

  private func later(_ known: Timestamp?, _ time: Timestamp) -> Timestamp {
    known.map { max($0, time) } ?? time
  }

  // MARK: Reading

  /// The latest expiry of any entry, or nil when there is none.
  public var latestExpiry: Timestamp? {
    images.values.flatMap { entries in
      [entries.nodePodsAccessible].compactMap { $0 } + Array(entries.secrets.values) + Array(entries.serviceAccounts.values)
    }.max()
  }

  // MARK: Coding

  public static func decode(_ bytes: [UInt8], name: String) throws(PullwardenError) -> CredentialExpiry {
    let root = try RecordCoding.object(bytes, name: name, kind: kind)
    guard try root.string("kind") == kind else { throw root.error("kind must be \"\(kind)\"", at: "kind") }
    guard try root.string("apiVersion") == apiVersion else {
      throw root.error("apiVersion must be \"\(apiVersion)\"", at: "apiVersion")
    }
    try root.rejectUnknownKeys(["kind", "apiVersion", "lastUpdatedTime", "imageRef", "credentialMapping"])
    var expiry = CredentialExpiry(imageRef: try root.string("imageRef") ?? "", lastUpdatedTime: try wholeSeconds(root, "lastUpdatedTime"))
    guard let mapping = try root.object("credentialMapping") else { return expiry }
    for member in mapping.object.members {
      guard let reader = try mapping.object(member.key) else { continue }
      try reader.rejectUnknownKeys(["kubernetesSecrets", "kubernetesServiceAccounts", "nodePodsAccessibleExpiresAt"])
      var entries = Entries(nodePodsAccessible: try wholeSeconds(reader, "nodePodsAccessibleExpiresAt"))
      for item in try reader.objectArray("kubernetesSecrets") ?? [] {
        try item.rejectUnknownKeys(["uid", "namespace", "name", "credentialHash", "expiresAt"])
        let secret = ImagePullSecret(
          uid: try item.string("uid") ?? "", namespace: try item.string("namespace") ?? "",
          name: try item.string("name") ?? "", credentialHash: try item.string("credentialHash") ?? "")
        entries.secrets[secret] = try requiredTime(item)
      }
      for item in try reader.objectArray("kubernetesServiceAccounts") ?? [] {
        try item.rejectUnknownKeys(["uid", "namespace", "name", "expiresAt"])
        let account = ImagePullServiceAccount(
          uid: try item.string("uid") ?? "", namespace: try item.string("namespace") ?? "", name: try item.string("name") ?? "")
        entries.serviceAccounts[account] = try requiredTime(item)
      }
      expiry.images[member.key] = entries
    }
    return expiry
  }

  private static func requiredTime(_ item: ObjectReader) throws(PullwardenError) -> Timestamp {
    guard let time = try wholeSeconds(item, "expiresAt") else { throw item.error("missing \"expiresAt\"") }
    return time
  }

  /// A time cut down to its second, as it is written. Found by fuzzing: "…T00:00:00.9Z" read as is
  /// counted for 0.9 s past the second the file names (the rule is that a credential stops counting
  /// at its `expiresAt` second), and the answer then changed once the file was rewritten.
  private static func wholeSeconds(_ reader: ObjectReader, _ key: String) throws(PullwardenError) -> Timestamp? {
    try RecordCoding.time(reader, key).map { Timestamp(secondsSinceEpoch: $0.secondsSinceEpoch) }
  }

  public var json: JSONValue {
    var object: JSONObject = ["kind": .string(Self.kind), "apiVersion": .string(Self.apiVersion)]
    object["lastUpdatedTime"] = lastUpdatedTime.map { .string($0.rfc3339) } ?? .null
    object["imageRef"] = .string(imageRef)
    var mapping = JSONObject()
    for key in images.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
      let entries = images[key]!
      var item = JSONObject()
      if !entries.secrets.isEmpty {
        item["kubernetesSecrets"] = Self.json(entries.secrets, sortedBy: ImagePullSecret.precedes, fields: RecordCoding.json)
      }
      if !entries.serviceAccounts.isEmpty {
        item["kubernetesServiceAccounts"] = Self.json(
          entries.serviceAccounts, sortedBy: ImagePullServiceAccount.precedes, fields: RecordCoding.json)
      }
      if let node = entries.nodePodsAccessible { item["nodePodsAccessibleExpiresAt"] = .string(node.rfc3339) }
      mapping[key] = .object(item)
    }
    if !mapping.isEmpty { object["credentialMapping"] = .object(mapping) }
    return .object(object)
  }

  public func encoded() -> [UInt8] {
    GoJSON.encode(json) + [UInt8(ascii: "\n")]
  }

  /// A record list (sorted as the record sorts it) with each entry's `expiresAt` after its fields.
  private static func json<Entry: Hashable>(
    _ expiries: [Entry: Timestamp], sortedBy precedes: (Entry, Entry) -> Bool, fields: (Entry) -> JSONObject
  ) -> JSONValue {
    .array(
      expiries.keys.sorted(by: precedes).map { entry in
        var object = fields(entry)
        object["expiresAt"] = .string(expiries[entry]!.rfc3339)
        return .object(object)
      })
  }
}

/// How long a recorded credential counts, as the verifier sees it.
public enum ExpiryState: Equatable, Sendable {
  /// No companion file: the kubelet's rule, recorded access lasts until the record is removed.
  case unlimited
  case until(Timestamp)
  /// A companion exists but does not mention the credential: treated as expired.
  case unknown

  /// Whether the credential no longer allows reuse at `now`. Expiry is second-precise on disk, so a
  /// credential stops counting at its `expiresAt` second.
  public func hasExpired(at now: Timestamp) -> Bool {
    switch self {
    case .unlimited: return false
    case .until(let time): return now >= time
    case .unknown: return true
    }
  }
}

extension Optional where Wrapped == CredentialExpiry {
  func state(nodeAccessTo key: String) -> ExpiryState {
    guard let self else { return .unlimited }
    return self.images[key]?.nodePodsAccessible.map(ExpiryState.until) ?? .unknown
  }

  func state(of secret: ImagePullSecret, for key: String) -> ExpiryState {
    guard let self else { return .unlimited }
    return self.images[key]?.secrets[secret].map(ExpiryState.until) ?? .unknown
  }

  func state(of account: ImagePullServiceAccount, for key: String) -> ExpiryState {
    guard let self else { return .unlimited }
    return self.images[key]?.serviceAccounts[account].map(ExpiryState.until) ?? .unknown
  }
}
