#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The optional cross-invocation cache of exchanged credentials (`credentialCache` in the config).
///
/// The kubelet's own cache lives in its memory and is per image unless told otherwise, so without this
/// every container image of every pod, and every pod after a kubelet restart, costs a round trip to the
/// token service. Entries are files named by a SHA-256 over the source, its effective parameters and
/// the service-account token (or, with `keyBy: serviceAccount`, the service account's identity), so a
/// file name reveals nothing. Files are 0600 in a 0700 directory, written atomically, and expire with
/// the credential (their modification time is set to the expiry, so pruning needs no reads). Anything
/// wrong with the cache (permissions, a corrupt entry, a full disk) is a warning, never a failed pull.
public struct CredentialCacheSettings: Sendable, Equatable {
  public enum Keying: String, Sendable {
    /// One entry per token: a pod's containers share it; a new token (every ~48 min, and after a
    /// kubelet restart) means a new exchange. The conservative default.
    case token
    /// One entry per service account (namespace, name, uid, annotations): survives token rotation and
    /// kubelet restarts. Use only when the exchanged credential depends on the service account alone,
    /// i.e. with the kubelet's `cacheType: ServiceAccount`.
    case serviceAccount
  }

  public static let keys = ["dir", "keyBy", "refreshBefore"]
  public static let defaultRefreshBefore = GoDuration.minutes(1)

  /// Absolute path of the directory.
  public var directory: String
  public var keying: Keying
  /// An entry is used only while it has more than this left.
  public var refreshBefore: GoDuration

  public init(directory: String, keying: Keying = .token, refreshBefore: GoDuration = defaultRefreshBefore) {
    self.directory = directory
    self.keying = keying
    self.refreshBefore = refreshBefore
  }

  /// Reads the `credentialCache` object of the config.
  static func read(_ reader: ObjectReader, baseDirectory: String) throws(PullwardenError) -> CredentialCacheSettings {
    try reader.rejectUnknownKeys(keys)
    let directory = FileIO.resolve(try reader.requiredNonEmptyString("dir"), relativeTo: baseDirectory)
    let keyText = try reader.string("keyBy") ?? "token"
    guard let keying = Keying(rawValue: keyText) else {
      throw reader.error("unknown keyBy \"\(keyText)\" (expected token or serviceAccount)", at: "keyBy")
    }
    let refreshBefore = try reader.duration("refreshBefore") ?? defaultRefreshBefore
    if refreshBefore < .zero { throw reader.error("\"refreshBefore\" must not be negative", at: "refreshBefore") }
    return CredentialCacheSettings(directory: directory, keying: keying, refreshBefore: refreshBefore)
  }
}

/// The cache at work for one `provide` run.
public struct CredentialCache: Sendable {
  public let settings: CredentialCacheSettings
  let diagnostics: Diagnostics
  /// Entries are small; anything bigger is not ours.
  static let entryLimit = 64 << 10
  static let formatVersion: Int64 = 1

  public init(settings: CredentialCacheSettings, diagnostics: Diagnostics) {
    self.settings = settings
    self.diagnostics = diagnostics
  }

  /// The cached credential for this source, token and identity when there is a fresh one; else the
  /// result of `produce`, which is then stored. Without a cache, just `produce()`.
  ///
  /// With `staleIfError`, an outage of the service (`PullwardenError.isOutage`: no connection, a
  /// timeout, HTTP 5xx or 429, never a refusal such as 401) is bridged with the cached credential for
  /// the same key while it has not expired, with a warning; its expiry still bounds the kubelet's
  /// cache. Entries are then kept even when they are due for refresh at once (`refreshBefore` at
  /// least their lifetime), so the last good credential is always at hand.
  static func obtain<Source: ServiceAccountTokenSource>(
    in context: ProvideContext, source: Source, token: ServiceAccountToken, identity: [String], staleIfError: Bool = false,
    produce: () throws(PullwardenError) -> ObtainedCredential
  ) throws(PullwardenError) -> ObtainedCredential {
    guard let cache = context.credentialCache else { return try produce() }
    let name = cache.entryName(
      source: Source.typeName, sourceName: source.common.name, token: token,
      annotations: context.request.serviceAccountAnnotations, identity: identity)
    let usable = cache.prepareDirectory()
    let cached = usable ? cache.load(name) : nil
    if let cached, cache.isFresh(cached, now: context.now) { return cached }
    let fresh: ObtainedCredential
    do {
      fresh = try produce()
    } catch {
      guard staleIfError, error.isOutage, let cached, let expiresAt = cached.expiresAt, context.now < expiresAt else { throw error }
      context.diagnostics.warn(
        "source \(quoted: source.common.name): \(error); serving its cached credential, valid until \(expiresAt.rfc3339) (staleIfError)")
      context.advice.noteStaleCredential(source: source.common.name)
      return cached
    }
    if usable { cache.store(fresh, as: name, now: context.now, keepingStale: staleIfError) }
    return fresh
  }

  /// The entry's file name: hex SHA-256 over length-prefixed fields, so no field can run into another.
  func entryName(
    source type: String, sourceName: String, token: ServiceAccountToken, annotations: [String: String], identity: [String]
  ) -> String {
    var fields = ["pullwarden credential cache", "\(Self.formatVersion)", type, sourceName] + identity
    switch settings.keying {
    case .token:
      fields += ["token", token.text]
    case .serviceAccount:
      fields += ["serviceAccount", token.coordinates.namespace, token.coordinates.name, token.coordinates.uid]
      for key in annotations.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
        fields += [key, annotations[key]!]
      }
    }
    var hasher = SHA256()
    for field in fields {
      let bytes = Array(field.utf8)
      hasher.update("\(bytes.count):")
      hasher.update(bytes)
    }
    return Hex.lowercase(hasher.finalize()) + ".json"
  }

  // MARK: Directory

  /// Creates the directory (0700) if needed and checks nobody else can read it; false (with a warning)
  /// when the cache cannot be used.
  func prepareDirectory() -> Bool {
    let directory = settings.directory
    do {
      try FileIO.makeDirectories(directory, mode: 0o700)
    } catch {
      diagnostics.warn("credential cache not used: \(error)")
      return false
    }
    var info = stat()
    guard lstat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
      diagnostics.warn("credential cache not used: \(directory) is not a directory")
      return false
    }
    if info.st_uid != geteuid() || info.st_mode & 0o077 != 0 {
      diagnostics.warn(
        "credential cache not used: \(directory) must be a directory of this user with mode 0700 (found mode 0\(String(info.st_mode & 0o777, radix: 8)))")
      return false
    }
    return true
  }

  // MARK: Entries

  /// The entry `name` when it is intact and ours, fresh or not; nil otherwise (a bad entry gets a
  /// warning).
  func load(_ name: String) -> ObtainedCredential? {
    loadEntry(name) { entry, expiresAt in
      guard case .string(let password)? = entry["password"], !password.isEmpty else { return nil }
      return ObtainedCredential(password: password, expiresAt: expiresAt)
    }
  }

  /// The entry `name` decoded by `decode` when it is a private regular file of this user in this
  /// format version with an expiry, fresh or not; nil otherwise (a bad entry gets a warning). Shared by
  /// every kind of entry (exchanged credentials, Secrets kept for `staleIfError`).
  func loadEntry<Entry>(_ name: String, limit: Int = CredentialCache.entryLimit, decode: (JSONObject, Timestamp) -> Entry?) -> Entry? {
    let path = settings.directory + "/" + name
    // O_NONBLOCK: a FIFO planted as an entry must not hang the open; the type is checked below.
    let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else {
      if errno != ENOENT { diagnostics.warn("ignoring credential cache entry: \(SystemError("open", path))") }
      return nil
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else {
      diagnostics.warn("ignoring credential cache entry \(path): not a private regular file of this user")
      return nil
    }
    guard let bytes = try? FileIO.readAll(fd: fd, limit: limit, name: path, sizeHint: Int(info.st_size)),
      case .object(let entry)? = try? JSON.parse(bytes, document: path, kind: .source),
      entry["version"] == .integer(Self.formatVersion),
      case .string(let expiry)? = entry["expiresAt"], let expiresAt = Timestamp(rfc3339: expiry),
      let decoded = decode(entry, expiresAt)
    else {
      // Never quote the file: it holds a credential.
      diagnostics.warn("ignoring corrupt credential cache entry \(path)")
      return nil
    }
    return decoded
  }

  /// The entry `name` when it is intact, ours, and fresh.
  func load(_ name: String, now: Timestamp) -> ObtainedCredential? {
    load(name).flatMap { isFresh($0, now: now) ? $0 : nil }
  }

  /// Whether a cached credential may be used without asking the service: more than `refreshBefore` left.
  func isFresh(_ credential: ObtainedCredential, now: Timestamp) -> Bool {
    guard let expiresAt = credential.expiresAt else { return false }
    return now.adding(settings.refreshBefore) < expiresAt
  }

  /// Writes the entry atomically (0600) and prunes expired ones. Credentials without a known expiry
  /// are not cached: nothing would say when to stop using them. An entry due for refresh at once is
  /// kept only `keepingStale` (for `staleIfError`).
  func store(_ credential: ObtainedCredential, as name: String, now: Timestamp, keepingStale: Bool = false) {
    guard let expiresAt = credential.expiresAt, now.adding(keepingStale ? .zero : settings.refreshBefore) < expiresAt else { return }
    var entry = JSONObject()
    entry["password"] = .string(credential.password)
    storeEntry(entry, as: name, expiresAt: expiresAt, now: now)
  }

  /// Writes `fields` as entry `name` (with the format version and `expiresAt`) atomically, 0600, and
  /// prunes expired entries. An entry over `limit` is not written: it could not be read back.
  func storeEntry(_ fields: JSONObject, as name: String, expiresAt: Timestamp, now: Timestamp, limit: Int = CredentialCache.entryLimit) {
    let path = settings.directory + "/" + name
    var entry = fields
    entry["version"] = .integer(Self.formatVersion)
    entry["expiresAt"] = .string(expiresAt.rfc3339)
    let bytes = JSON.encode(.object(entry)) + [UInt8(ascii: "\n")]
    guard bytes.count <= limit else {
      diagnostics.warn("credential cache entry not written: \(bytes.count) bytes, over the limit of \(limit)")
      return
    }
    do {
      try FileIO.replaceFile(path, with: bytes, mode: 0o600)
    } catch {
      diagnostics.warn("credential cache entry not written: \(error)")
      return
    }
    // The modification time records the expiry, so pruning can decide from a stat.
    var times = [timespec(tv_sec: Int(expiresAt.secondsSinceEpoch), tv_nsec: 0), timespec(tv_sec: Int(expiresAt.secondsSinceEpoch), tv_nsec: 0)]
    _ = utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
    prune(now: now)
  }

  /// Removes entries whose credential has expired, and temporary files left by a crash.
  func prune(now: Timestamp) {
    guard let names = try? FileIO.directoryEntries(settings.directory) else { return }
    for name in names.prefix(10_000) {
      let entry = name.hasSuffix(".json") && !name.hasPrefix(".")
      let leftover = name.hasPrefix(".") && name.hasSuffix(".tmp")
      guard entry || leftover, let status = try? FileIO.status(settings.directory + "/" + name), status.type == .regular
      else { continue }
      let expired = entry ? status.modified <= now : status.modified.adding(.hours(1)) <= now
      if expired { _ = try? FileIO.removeFile(settings.directory + "/" + name) }
    }
  }
}
