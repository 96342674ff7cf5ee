/// `pullwarden records list | inspect | gc`: reading a records directory for people and tools.
public enum RecordsReport {
  /// One recorded credential of an image name, with its expiry.
  public struct Entry: Sendable {
    public enum Holder: Sendable {
      case node
      case secret(ImagePullSecret)
      case serviceAccount(ImagePullServiceAccount)
    }

    public var image: String
    public var holder: Holder
    public var expiry: ExpiryState
  }

  /// Every credential entry of `record`, image names in byte order.
  public static func entries(_ record: ImagePulledRecord, _ expiry: CredentialExpiry?) -> [Entry] {
    var entries: [Entry] = []
    for image in record.credentialMapping.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
      let credentials = record.credentialMapping[image]!
      if credentials.nodePodsAccessible { entries.append(Entry(image: image, holder: .node, expiry: expiry.state(nodeAccessTo: image))) }
      for secret in credentials.kubernetesSecrets {
        entries.append(Entry(image: image, holder: .secret(secret), expiry: expiry.state(of: secret, for: image)))
      }
      for account in credentials.kubernetesServiceAccounts {
        entries.append(Entry(image: image, holder: .serviceAccount(account), expiry: expiry.state(of: account, for: image)))
      }
    }
    return entries
  }

  /// Whether the record has credentials and every one of them has expired at `now`.
  public static func allExpired(_ record: ImagePulledRecord, _ expiry: CredentialExpiry?, at now: Timestamp) -> Bool {
    let all = entries(record, expiry)
    return !all.isEmpty && all.allSatisfy { $0.expiry.hasExpired(at: now) }
  }

  /// The last time the record changed or Pullwarden handed out one of its credentials.
  public static func lastActivity(_ record: ImagePulledRecord, _ expiry: CredentialExpiry?) -> Timestamp? {
    [record.lastUpdatedTime, expiry?.lastUpdatedTime].compactMap { $0 }.max()
  }

  // MARK: list

  /// The `list` table: one row per record file, sorted by image ref, columns aligned.
  public static func table(_ listed: [RecordStore.Listed], now: Timestamp) -> String {
    var rows: [[String]] = []
    for item in listed {
      switch item.content {
      case .found(let record, let expiry):
        rows.append([
          record.imageRef, record.lastUpdatedTime?.rfc3339 ?? "-", expiry?.lastUpdatedTime?.rfc3339 ?? "-",
          summary(record), expirySummary(record, expiry, now: now),
        ])
      case .unreadable:
        rows.append([item.fileName, "-", "-", "unreadable (never trusted)", "-"])
      case .mismatched(let found):
        rows.append([item.fileName, "-", "-", "names imageRef \(found) (never trusted)", "-"])
      case .absent:
        continue
      }
    }
    rows.sort { $0[0].utf8.lexicographicallyPrecedes($1[0].utf8) }
    return align([["IMAGE REF", "UPDATED", "HANDED OUT", "CREDENTIALS", "EXPIRES"]] + rows)
  }

  /// `list --format json`: one object per record file.
  public static func json(_ listed: [RecordStore.Listed], directory: String, now: Timestamp) -> JSONValue {
    .array(listed.map { item in json(file: item.fileName, item.content, directory: directory, now: now) })
  }

  /// One record file as `list --format json` and `inspect --format json` show it.
  public static func json(file fileName: String, _ content: RecordStore.Pulled, directory: String, now: Timestamp) -> JSONValue {
    var object: JSONObject = ["file": .string(RecordStore(directory: directory).pulledDirectory + "/" + fileName)]
    switch content {
    case .found(let record, let expiry):
      object["status"] = .string("ok")
      object["allExpired"] = .bool(allExpired(record, expiry, at: now))
      object["record"] = record.json
      object["expiry"] = expiry?.json ?? .null
    case .unreadable(let reason):
      object["status"] = .string("unreadable")
      object["problem"] = .string(reason)
    case .mismatched(let found):
      object["status"] = .string("mismatched")
      object["problem"] = .string("the file names imageRef \"\(found)\", whose file name differs")
    case .absent:
      object["status"] = .string("absent")
    }
    return .object(object)
  }

  /// "node-wide", "2 Secrets, 1 service account", per image name when the record has several.
  static func summary(_ record: ImagePulledRecord) -> String {
    if record.credentialMapping.isEmpty { return "none (must re-verify)" }
    let keys = record.credentialMapping.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    let parts = keys.map { key -> String in
      let credentials = record.credentialMapping[key]!
      var text: [String] = []
      if credentials.nodePodsAccessible { text.append("node-wide") }
      let secrets = credentials.kubernetesSecrets.count, accounts = credentials.kubernetesServiceAccounts.count
      if secrets > 0 { text.append("\(secrets) Secret\(secrets == 1 ? "" : "s")") }
      if accounts > 0 { text.append("\(accounts) service account\(accounts == 1 ? "" : "s")") }
      if text.isEmpty { text.append("none") }
      let joined = text.joined(separator: ", ")
      return keys.count == 1 && key == record.imageRef ? joined : "\(key): \(joined)"
    }
    return parts.joined(separator: "; ")
  }

  static func expirySummary(_ record: ImagePulledRecord, _ expiry: CredentialExpiry?, now: Timestamp) -> String {
    guard expiry != nil else { return "never" }
    let times = entries(record, expiry).compactMap { entry -> Timestamp? in
      if case .until(let time) = entry.expiry { return time }
      return nil
    }
    guard let latest = times.max() else { return "unknown (expired)" }
    return latest.rfc3339 + (now >= latest ? " (expired)" : "")
  }

  /// Pads every column but the last to its widest cell, two spaces apart.
  static func align(_ rows: [[String]]) -> String {
    guard let columns = rows.map(\.count).max() else { return "" }
    var widths = [Int](repeating: 0, count: columns)
    for row in rows {
      for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    return rows.map { row in
      row.enumerated().map { index, cell in
        index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
      }.joined()
    }.joined(separator: "\n") + "\n"
  }

  // MARK: inspect

  /// The `inspect` text: the record's header, then every credential with its expiry.
  public static func describe(_ record: ImagePulledRecord, _ expiry: CredentialExpiry?, file: String, now: Timestamp) -> String {
    var rows = [
      ["file", file], ["imageRef", record.imageRef], ["apiVersion", record.apiVersion.rawValue],
      ["updated", record.lastUpdatedTime?.rfc3339 ?? "-"],
      ["handed out", expiry?.lastUpdatedTime?.rfc3339 ?? (expiry == nil ? "- (no expiry file: credentials never expire)" : "-")],
    ]
    let all = entries(record, expiry)
    if all.isEmpty { rows.append(["credentials", "none: every pod must re-verify"]) }
    var text = align(rows)
    var image: String?
    for entry in all {
      if entry.image != image {
        text += entry.image + "\n"
        image = entry.image
      }
      let holder: String
      switch entry.holder {
      case .node: holder = "node-wide (every pod on the node)"
      case .secret(let secret):
        let hash = secret.credentialHash.isEmpty
          ? "(none)" : secret.credentialHash.count > 12 ? secret.credentialHash.prefix(12) + "…" : secret.credentialHash
        holder = "Secret \(secret.namespace)/\(secret.name)  uid \(secret.uid)  hash \(hash)"
      case .serviceAccount(let account):
        holder = "service account \(account.namespace)/\(account.name)  uid \(account.uid)"
      }
      text += "  \(holder)  expires \(describe(entry.expiry, now: now))\n"
    }
    return text
  }

  static func describe(_ state: ExpiryState, now: Timestamp) -> String {
    switch state {
    case .unlimited: return "never"
    case .unknown: return "unknown (counts as expired)"
    case .until(let time): return time.rfc3339 + (now >= time ? " (expired)" : "")
    }
  }
}

/// `pullwarden records gc`: retires records nobody has used for a while, or whose every credential
/// has expired, and removes the leftovers of crashes.
///
/// gc can only ever move an answer towards "must pull", never towards "may use":
/// - a collected record is *retired*, not deleted: its `credentialMapping` is emptied (the kubelet's
///   "pulled, credentials unknown") and its companion removed, so every pod must re-verify the image.
///   A deleted record would make the image look preloaded under `NeverVerifyPreloadedImages`;
/// - a record is retired whole or not at all: dropping some entries could bring an image name below
///   the kubelet's 100-Secret limit and turn a coordinates match from "must pull" into "may use";
/// - pull intents, unreadable files and files naming another imageRef are never touched (each one
///   forces re-verification);
/// - only companions and lock files without a record, and stale temporary files, are deleted.
public struct RecordsCollector: Sendable {
  /// Retire records not changed or handed out for longer than this.
  public var olderThan: GoDuration?
  /// Retire records whose every credential has expired.
  public var expired: Bool
  public var dryRun: Bool

  public init(olderThan: GoDuration?, expired: Bool, dryRun: Bool) {
    self.olderThan = olderThan
    self.expired = expired
    self.dryRun = dryRun
  }

  public struct Action: Sendable {
    public enum Kind: String, Sendable {
      case retired, kept, leftover
    }

    public var kind: Kind
    /// The record's imageRef, or a file path for leftovers and untrusted files.
    public var subject: String
    public var why: String
  }

  /// Why `record` should be retired, or nil to keep it. A record already without credentials has
  /// nothing left to retire.
  func reason(_ record: ImagePulledRecord, _ expiry: CredentialExpiry?, now: Timestamp) -> String? {
    if record.credentialMapping.isEmpty { return nil }
    if let olderThan {
      let last = RecordsReport.lastActivity(record, expiry)
      if last.map({ $0.duration(until: now) > olderThan }) ?? true {
        return "not updated or handed out for more than \(olderThan) (last \(last?.rfc3339 ?? "never"))"
      }
    }
    if expired && RecordsReport.allExpired(record, expiry, at: now) {
      return "every credential has expired"
    }
    return nil
  }

  public func run(_ store: RecordStore, now: Timestamp) throws(PullwardenError) -> [Action] {
    var actions: [Action] = []
    for item in try store.listPulled() {
      switch item.content {
      case .found(let record, let expiry):
        guard let why = reason(record, expiry, now: now) else { continue }
        if dryRun {
          actions.append(Action(kind: .retired, subject: record.imageRef, why: why))
          continue
        }
        // Re-checked under the lock: a provider may have just refreshed the record.
        let retired = try store.retire(imageRef: record.imageRef, now: now) { current in
          guard case .found(let fresh, let freshExpiry) = current else { return false }
          return reason(fresh, freshExpiry, now: now) != nil
        }
        if retired { actions.append(Action(kind: .retired, subject: record.imageRef, why: why)) }
      case .unreadable(let problem):
        actions.append(Action(kind: .kept, subject: store.pulledDirectory + "/" + item.fileName, why: "unreadable, never trusted (\(problem)); the next write replaces it"))
      case .mismatched(let found):
        actions.append(Action(kind: .kept, subject: store.pulledDirectory + "/" + item.fileName, why: "names imageRef \"\(found)\", never trusted"))
      case .absent:
        continue
      }
    }
    for path in try store.removeLeftovers(now: now, dryRun: dryRun) {
      actions.append(Action(kind: .leftover, subject: path, why: "left behind by a retired record or a crash"))
    }
    return actions
  }

  /// One line per action and a closing count; every input-derived text is escaped to one line.
  public func text(_ actions: [Action]) -> String {
    var lines = actions.map { action -> String in
      let line: String
      switch action.kind {
      case .retired:
        line = "\(dryRun ? "would retire" : "retired") \(action.subject): \(action.why); every pod must re-verify it"
      case .kept: line = "kept \(action.subject): \(action.why)"
      case .leftover: line = "\(dryRun ? "would remove" : "removed") \(action.subject): \(action.why)"
      }
      return PullDecision.oneLine(line)
    }
    let count = actions.filter { $0.kind == .retired }.count
    lines.append("\(dryRun ? "would retire" : "retired") \(count) record\(count == 1 ? "" : "s")")
    return lines.joined(separator: "\n") + "\n"
  }

  public func json(_ actions: [Action]) -> JSONValue {
    .object([
      "dryRun": .bool(dryRun),
      "actions": .array(actions.map { .object(["action": .string($0.kind.rawValue), "subject": .string($0.subject), "why": .string($0.why)]) }),
    ])
  }
}
