#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A directory of pull records in the kubelet's layout, shared by every process on the node.
///
/// ```
/// <dir>/pulled/sha256-<hex>             ImagePulledRecord, the kubelet's format (hex = SHA-256 of the key)
/// <dir>/pulling/sha256-<hex>            ImagePullIntent: the kubelet's, or Pullwarden's own while it records
/// <dir>/pullwarden-expiry/sha256-<hex>  CredentialExpiry, Pullwarden's companion to the record
/// <dir>/pullwarden-locks/sha256-<hex>   empty lock file, one per record
/// ```
/// The kubelet keys pulled records by the CRI image ID (`imageRef`). The credential provider never
/// sees that ID (its request carries only the image name), so Pullwarden's own records are keyed by
/// the normalized image name (`docker.io/library/nginx`) and store that name as `imageRef`. A
/// directory with `pullwarden-expiry/` is Pullwarden's own (`isPullwardenStore`); provide creates it
/// durably before anything else, and a kubelet's directory never gets one.
///
/// Directories are created 0700 and files 0600. Every change happens under an exclusive `flock` on the
/// record's lock file (read, merge, write), so concurrent providers never lose each other's updates;
/// readers take no lock (see `pulledRecord` for why the order of writes and reads makes that safe),
/// so a lookup never waits for a writer's fsync. Files are replaced atomically (`FileIO.replaceFile`),
/// the companion before the record; see `update` for what reaches the disk in which order.
///
/// Files that do not decode, name a different `imageRef`, or are not regular files are never
/// trusted: readers report them, and the next update replaces them and says so. Record files are never
/// deleted, only cleared (`retire`): a missing record would make the image look preloaded.
public struct RecordStore: Sendable {
  public let directory: String

  /// How long an update waits for another process's lock before giving up (the pull goes on).
  public static let writeLockTimeout = GoDuration.seconds(10)
  /// No record file is anywhere near this; a bigger one is not ours.
  static let fileSizeLimit = 4 << 20

  public init(directory: String) {
    self.directory = directory
  }

  public var pulledDirectory: String { directory + "/pulled" }
  public var pullingDirectory: String { directory + "/pulling" }
  public var expiryDirectory: String { directory + "/" + CredentialExpiry.directoryName }
  public var lockDirectory: String { directory + "/pullwarden-locks" }

  /// Whether this is Pullwarden's own store (records keyed by image name, each credential with a
  /// companion) rather than a kubelet's `image_manager` (keyed by image ID, no companions).
  public var isPullwardenStore: Bool {
    (try? FileIO.fileType(expiryDirectory, followLinks: false)) == .directory
  }

  /// `sha256-<hex>`: the kubelet's file name for a record key (no newline, no normalization).
  public static func fileName(forKey key: String) -> String {
    "sha256-" + CredentialHash.sha256Hex(key)
  }

  // MARK: Reading

  /// What the pulled-record file for a key holds.
  public enum Pulled: Sendable {
    case absent
    /// The record and its companion; nil companion means there is none (expiry is unlimited).
    case found(ImagePulledRecord, CredentialExpiry?)
    /// The file exists but cannot be trusted; the reason names the file and never its content.
    case unreadable(String)
    /// The file decodes but belongs to another `imageRef`; the kubelet treats this as no record.
    case mismatched(found: String)
  }

  /// The pulled record for `imageRef`, with its companion.
  ///
  /// Read without a lock, so a lookup never waits behind a writer's fsync (the verifier's latency
  /// while providers write). That is safe because every file is replaced by rename (a reader sees a
  /// whole old or whole new file) and because of the order on both sides: `update` writes the
  /// companion before the record, and `read` reads the record before the companion. A reader that
  /// sees a new record therefore sees at least as new a companion; one that sees an old record with a
  /// newer companion finds expiries that only grew for credentials a provide handed out again, or
  /// entries pruned away, which count as expired. A companion removed before its record is retired
  /// reads as missing: expired, in Pullwarden's store. Every mix errs towards "must pull".
  public func pulledRecord(imageRef: String, diagnostics: Diagnostics = .discard) -> Pulled {
    let name = Self.fileName(forKey: imageRef)
    let entry = read(name: name, imageRef: imageRef)
    if let problem = entry.companionProblem {
      diagnostics.warn("\(problem): every credential of \(imageRef) counts as expired")
    }
    return entry.pulled
  }

  /// Whether a trusted pulled record for `imageRef` exists: `pulledRecord` is `.found`, whatever its
  /// companion holds, so the companion is not read (provide asks this before every answer).
  public func hasRecord(imageRef: String) -> Bool {
    guard case .loaded(let record) = Self.load(pulledDirectory + "/" + Self.fileName(forKey: imageRef), decode: ImagePulledRecord.decode)
    else { return false }
    return record.imageRef == imageRef
  }

  /// The record file `name` (already locked, or not needing a lock) checked against `imageRef`, and
  /// what is wrong with its companion, if anything (an untrusted companion reads as an empty one).
  private func read(name: String, imageRef: String) -> (pulled: Pulled, companionProblem: String?) {
    let path = pulledDirectory + "/" + name
    let record: ImagePulledRecord
    switch Self.load(path, decode: ImagePulledRecord.decode) {
    case .absent: return (.absent, nil)
    case .unreadable(let reason): return (.unreadable(reason), nil)
    case .loaded(let loaded): record = loaded
    }
    if record.imageRef != imageRef { return (.mismatched(found: record.imageRef), nil) }
    let expiryPath = expiryDirectory + "/" + name
    switch Self.load(expiryPath, decode: CredentialExpiry.decode) {
    case .absent:
      // Pullwarden makes a record's companion durable before the record (see `update`), so in its own
      // store a record with credentials and no companion lost it (a crash, a hand): unknown expiry
      // must not mean "never expires". A kubelet's directory has no companions; there it does.
      if !record.credentialMapping.isEmpty && isPullwardenStore {
        return (.found(record, CredentialExpiry(imageRef: imageRef)), "the credential expiry file \(expiryPath) is missing")
      }
      return (.found(record, nil), nil)
    case .unreadable(let reason):
      return (.found(record, CredentialExpiry(imageRef: imageRef)), "the credential expiry file is unreadable (\(reason))")
    case .loaded(let expiry):
      guard expiry.imageRef == imageRef else {
        let problem = "the credential expiry file \(expiryPath) names imageRef \"\(expiry.imageRef)\""
        return (.found(record, CredentialExpiry(imageRef: imageRef)), problem)
      }
      return (.found(record, expiry), nil)
    }
  }

  public enum Intent: Sendable, Equatable {
    case absent
    case present
    case unreadable(String)
  }

  /// Whether the kubelet recorded an intent to pull `image` (the pod's image string exactly): the
  /// kubelet's `ImagePullIntentExists`, true only when the file decodes and names the same image.
  public func intent(image: String) -> Intent {
    switch Self.load(pullingDirectory + "/" + Self.fileName(forKey: image), decode: ImagePullIntent.decode) {
    case .absent: return .absent
    case .unreadable(let reason): return .unreadable(reason)
    case .loaded(let intent): return intent.image == image ? .present : .absent
    }
  }

  enum Loaded<T> {
    case absent
    case loaded(T)
    case unreadable(String)
  }

  /// Reads and decodes one record file; a symbolic link, a directory, an oversized file, or a file
  /// that someone other than root or the user running Pullwarden could have written (`FileTrust`,
  /// checked on the open descriptor) is unreadable: never evidence, so the image must be re-verified.
  static func load<T>(_ path: String, decode: ([UInt8], String) throws(PullwardenError) -> T) -> Loaded<T> {
    let bytes: [UInt8]
    do {
      bytes = try FileIO.readFile(path, limit: fileSizeLimit, followLinks: false, trusted: true)
    } catch let untrusted as UntrustedFile {
      return .unreadable(untrusted.description)
    } catch let error as SystemError {
      if error.isNotFound { return .absent }
      return .unreadable(error.isSymbolicLink ? "\(path) is a symbolic link" : error.description)
    } catch {
      return .unreadable("\(error)")
    }
    do {
      return .loaded(try decode(bytes, path))
    } catch {
      return .unreadable(error.description)
    }
  }

  // MARK: Writing

  /// What an update did, for callers that report it.
  public struct UpdateResult: Sendable, Equatable {
    public var recordWritten = false
    public var expiryWritten = false
  }

  /// Reads the record for `imageRef` and its companion under the record's exclusive lock, lets
  /// `change` modify them, and writes back what changed (companion first, then record).
  ///
  /// `change` sees nil for a missing, unreadable or mismatched file; replacing such a file is reported
  /// through `diagnostics`. The companion is pruned to the entries the record still holds.
  ///
  /// Crash safety of the pair, the record being fsync'd (file, then directory) before this returns:
  /// - a companion that did not exist (or could not be trusted) is made durable, file and directory,
  ///   before the record is written: once a record with credentials is on disk, so is a companion;
  /// - a companion that exists is replaced without fsync. Expiry times only grow and pruning only
  ///   drops entries, so the old companion a crash may leave can only make a credential look expired
  ///   sooner (an entry it lacks counts as expired), and an empty one (its data not yet written out)
  ///   is unreadable, so all its credentials count as expired: the verifier then asks for a pull, the
  ///   safe answer, and the steady-state provide (record unchanged, expiry extended) costs no fsync.
  /// `read` adds the belt to these braces: in Pullwarden's store a record whose companion is missing
  /// counts as expired. The end-to-end crash tests kill the process before every step, with and
  /// without undoing what was not yet durable, and check both.
  @discardableResult
  public func update(
    imageRef: String, diagnostics: Diagnostics = .discard,
    _ change: (inout ImagePulledRecord?, inout CredentialExpiry?) -> Void
  ) throws(PullwardenError) -> UpdateResult {
    try update(lockForUpdate(imageRef: imageRef), diagnostics: diagnostics, change)
  }

  /// A record read under its exclusive lock, which is held until this is released: `provide` takes
  /// it before answering (the intent check) and updates the same read after, so the record is read
  /// and decoded once per call, not twice (Step 10: about 70k instructions and five system calls).
  /// Nobody else changes the record meanwhile: every writer takes the lock.
  public final class LockedEntry {
    fileprivate let lock: FileLock
    fileprivate let name: String
    fileprivate let imageRef: String
    fileprivate let entry: (pulled: Pulled, companionProblem: String?)

    fileprivate init(lock: FileLock, name: String, imageRef: String, entry: (pulled: Pulled, companionProblem: String?)) {
      self.lock = lock
      self.name = name
      self.imageRef = imageRef
      self.entry = entry
    }

    /// Whether a trusted record for the image exists: what `hasRecord` answers.
    public var hasRecord: Bool {
      if case .found = entry.pulled { return true }
      return false
    }
  }

  /// Takes the record's exclusive lock and reads it (see `LockedEntry`).
  ///
  /// - Parameter creatingLockDirectory: false fails instead of creating `pullwarden-locks/` (a store
  ///   Pullwarden has not written yet), leaving every directory change to the write steps themselves.
  public func lockForUpdate(imageRef: String, creatingLockDirectory: Bool = true) throws(PullwardenError) -> LockedEntry {
    let name = Self.fileName(forKey: imageRef)
    let lock = try exclusiveLock(name, creatingDirectory: creatingLockDirectory)
    return LockedEntry(lock: lock, name: name, imageRef: imageRef, entry: read(name: name, imageRef: imageRef))
  }

  /// `update` on a record already locked and read; the lock stays held while `locked` lives.
  @discardableResult
  public func update(
    _ locked: LockedEntry, diagnostics: Diagnostics = .discard,
    _ change: (inout ImagePulledRecord?, inout CredentialExpiry?) -> Void
  ) throws(PullwardenError) -> UpdateResult {
    let name = locked.name
    let imageRef = locked.imageRef
    var record: ImagePulledRecord?
    var expiry: CredentialExpiry?
    let entry = locked.entry
    switch entry.pulled {
    case .absent:
      break
    case .unreadable(let reason):
      diagnostics.warn("replacing unreadable pull record: \(reason)")
    case .mismatched(let found):
      diagnostics.warn("replacing pull record \(pulledDirectory)/\(name): it names imageRef \"\(found)\", not \"\(imageRef)\"")
    case .found(let existing, let companion):
      record = existing
      expiry = companion
    }
    if let problem = entry.companionProblem { diagnostics.warn("replacing it: \(problem)") }
    let originalRecord = record
    let originalExpiry = expiry
    change(&record, &expiry)
    if let current = record, var companion = expiry {
      companion.prune(keeping: current)
      expiry = companion
    }

    var result = UpdateResult()
    if let expiry, expiry != originalExpiry || entry.companionProblem != nil {
      let durable = originalExpiry == nil || entry.companionProblem != nil
      try write(expiry.encoded(), to: expiryDirectory + "/" + name, durable: durable)
      result.expiryWritten = true
    }
    if let record, record != originalRecord {
      try write(record.encoded(), to: pulledDirectory + "/" + name)
      result.recordWritten = true
    }
    return result
  }

  // MARK: Pull intents

  /// Durably records that credentials for `image` (a record key) are about to be handed out, in the
  /// kubelet's `ImagePullIntent` format, as the kubelet does before it pulls: until a record holds the
  /// credentials, the intent makes the image count as pulled, so the verifier asks every pod to
  /// re-verify instead of treating the image as preloaded. `pullwarden-expiry/` is created (durably)
  /// first, marking the directory as Pullwarden's store.
  public func recordIntent(image: String) throws(PullwardenError) {
    do {
      try ensureDirectory(expiryDirectory)
      try ensureDirectory(pullingDirectory)
      try replace(pullingDirectory + "/" + Self.fileName(forKey: image), with: ImagePullIntent(image: image).encoded(), durable: true)
    } catch {
      throw PullwardenError(.records, "cannot record the pull intent: \(error)", at: directory)
    }
  }

  /// Removes the intent for `image` once its record holds the credentials. Not fsync'd: an intent a
  /// crash brings back only asks for re-verification. Failures are ignored for the same reason.
  public func removeIntent(image: String) {
    _ = try? removeFile(pullingDirectory + "/" + Self.fileName(forKey: image))
  }

  private func exclusiveLock(_ name: String, creatingDirectory: Bool = true) throws(PullwardenError) -> FileLock {
    let path = lockDirectory + "/" + name
    var created = !creatingDirectory
    while true {
      do {
        return try FileLock.acquire(path, mode: .exclusive, timeout: Self.writeLockTimeout)!
      } catch .system(let error) where error.isNotFound && !created {
        do {
          try ensureDirectory(lockDirectory)
        } catch {
          throw PullwardenError(.records, "cannot create the records directory: \(error)", at: directory)
        }
        created = true
      } catch {
        throw PullwardenError(.records, "cannot lock the pull record: \(error)", at: directory)
      }
    }
  }

  private func write(_ bytes: [UInt8], to path: String, durable: Bool = true) throws(PullwardenError) {
    do {
      try ensureDirectory(FileIO.directoryName(path))
      try replace(path, with: bytes, durable: durable)
    } catch {
      throw PullwardenError(.records, "cannot write the pull record: \(error)", at: directory)
    }
  }

  // MARK: File-system steps (each one a crash point in debug builds: see CrashPoints)

  private func replace(_ path: String, with bytes: [UInt8], durable: Bool) throws(SystemError) {
    try CrashPoints.step("write", path)
    let parent = FileIO.directoryName(path)
    CrashPoints.willChange(path, directory: parent)
    // The companion is rewritten by every provide; the kubelet-format directories keep only records.
    try FileIO.replaceFile(path, with: bytes, durable: durable, keepingTemporaryFolder: parent == expiryDirectory)
    if durable { CrashPoints.synced(directory: parent) }
  }

  private func removeFile(_ path: String) throws(SystemError) -> Bool {
    try CrashPoints.step("remove", path)
    CrashPoints.willChange(path, directory: FileIO.directoryName(path))
    return try FileIO.removeFile(path)
  }

  private func syncDirectory(_ path: String) throws(SystemError) {
    try CrashPoints.step("sync", path)
    try FileIO.syncDirectory(path)
    CrashPoints.synced(directory: path)
  }

  /// Creates `path` (one of the store's directories) and the records directory itself, 0700, where
  /// missing, syncing the parent of each one it creates: a file made durable inside a directory is
  /// lost with it if the directory's own entry is not. Only what a write needs is created: a
  /// kubelet's directory gains no companion files.
  private func ensureDirectory(_ path: String) throws(SystemError) {
    var missing: [String] = []
    var current = path
    while try FileIO.status(current) == nil {
      missing.append(current)
      let parent = FileIO.directoryName(current)
      if parent == current || parent == "." || parent == "/" { break }
      current = parent
    }
    for created in missing.reversed() {
      try CrashPoints.step("create directory", created)
      try FileIO.makeDirectories(created)
      CrashPoints.createdDirectory(created)
      try syncDirectory(FileIO.directoryName(created))
    }
  }

  // MARK: Checking, listing and removing

  /// Refuses a directory that is not a records directory, so a mistyped path cannot make every image
  /// look preloaded: it must exist and hold `pulled/` or `pulling/`.
  public func checkLayout() throws(PullwardenError) {
    let type: FileIO.FileType?
    do {
      type = try FileIO.fileType(directory)
    } catch {
      throw PullwardenError(.records, "cannot read the records directory: \(error)", at: directory)
    }
    guard type == .directory else {
      throw PullwardenError(.records, type == nil ? "records directory does not exist" : "records directory is not a directory", at: directory)
    }
    let directories = try checkTrust()
    if !directories.contains("pulled") && !directories.contains("pulling") {
      throw PullwardenError(
        .records, "not a records directory: it has neither pulled/ nor pulling/ (the kubelet's is <root-dir>/image_manager)",
        at: directory)
    }
  }

  /// Refuses the records directory, or any directory in it (`pulled/`, `pulling/`, `pullwarden-*/`),
  /// when someone other than root or the user running Pullwarden could write to it (`FileTrust`):
  /// whoever can add a file there can plant a record that says "may use". A directory that does not
  /// exist yet passes (Pullwarden creates its own 0700). Symbolic links are followed, so what is
  /// checked is the directory actually used. Files inside are checked as they are read (`load`).
  ///
  /// - Returns: the names of the directories in it (all of them trusted), so callers need not stat
  ///   `pulled/` and the others again.
  @discardableResult
  public func checkTrust() throws(PullwardenError) -> [String] {
    do {
      let names: [String]
      do {
        names = try FileIO.directoryEntries(directory, trusted: true)
      } catch let error as SystemError where error.isNotFound || error.code == ENOTDIR {
        // Nothing to trust yet; a file where the directory belongs fails the first write, clearly.
        return []
      }
      var directories: [String] = []
      for name in names {
        let path = directory + "/" + name
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { continue }
        try FileTrust.check(info, path: path)
        directories.append(name)
      }
      return directories
    } catch let untrusted as UntrustedFile {
      throw PullwardenError(.records, untrusted.description, at: "records directory")
    } catch {
      throw PullwardenError(.records, "cannot check the records directory: \(error)", at: directory)
    }
  }

  /// What `provide` checks before it reads or writes anything here: the directory must be trusted
  /// (`checkTrust`) and must not be the kubelet's own `image_manager`. Pullwarden must never write
  /// into the kubelet's records (they are keyed by image ID, and the kubelet owns their lifecycle), so
  /// a directory with both `pulled/` and `pulling/` (what the kubelet creates) but no
  /// `pullwarden-expiry/` (what Pullwarden creates before its first intent) is refused. A directory
  /// that does not exist yet is fine: provide creates it.
  public func checkUsableForProvide() throws(PullwardenError) {
    if Self.looksLikeKubeletDirectory(path: directory) {
      throw PullwardenError(
        .records,
        "recordsDir \(directory) is the kubelet's image_manager directory: Pullwarden must never write into the kubelet's own pull records; give it a directory of its own (default \(PullwardenConfig.defaultRecordsDirectory))",
        at: "records directory")
    }
    let directories = try checkTrust()
    if directories.contains("pulled") && directories.contains("pulling") && !directories.contains(CredentialExpiry.directoryName) {
      throw PullwardenError(
        .records,
        "recordsDir \(directory) looks like the kubelet's image_manager directory (it has pulled/ and pulling/ but no \(CredentialExpiry.directoryName)/): Pullwarden must never write into the kubelet's own pull records; give it a directory of its own (default \(PullwardenConfig.defaultRecordsDirectory))",
        at: "records directory")
    }
  }

  /// Whether `path`'s last component is `image_manager`, the kubelet's records directory.
  public static func looksLikeKubeletDirectory(path: String) -> Bool {
    var trimmed = Substring(path)
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    return trimmed == "image_manager" || trimmed.hasSuffix("/image_manager")
  }

  /// One file of `pulled/`.
  public struct Listed: Sendable {
    public var fileName: String
    public var content: Pulled
    /// The file's modification time (for leftovers that do not decode).
    public var modified: Timestamp?
  }

  /// Every record file (`sha256-*`, not `*.tmp`, as the kubelet lists them), decoded, sorted by
  /// file name. A file whose name is not the hash of its `imageRef` is reported as mismatched.
  public func listPulled() throws(PullwardenError) -> [Listed] {
    let names: [String]
    do {
      names = try FileIO.directoryEntries(pulledDirectory)
    } catch let error as SystemError where error.isNotFound {
      return []
    } catch {
      throw PullwardenError(.records, "cannot list pull records: \(error)", at: directory)
    }
    var listed: [Listed] = []
    for name in names where name.hasPrefix("sha256-") && !name.hasSuffix(".tmp") {
      let path = pulledDirectory + "/" + name
      let info = try? FileIO.status(path)
      if info?.type == .directory { continue }
      var content: Pulled
      switch Self.load(path, decode: ImagePulledRecord.decode) {
      case .absent: continue
      case .unreadable(let reason): content = .unreadable(reason)
      case .loaded(let record):
        content = Self.fileName(forKey: record.imageRef) == name
          ? read(name: name, imageRef: record.imageRef).pulled : .mismatched(found: record.imageRef)
      }
      listed.append(Listed(fileName: name, content: content, modified: info?.modified))
    }
    return listed
  }

  /// Clears the credentials of the record `imageRef` when `stillWanted` agrees after re-reading it
  /// under the lock (a provider may have refreshed it meanwhile), and removes its companion. Returns
  /// whether it did.
  ///
  /// The file stays, with an empty `credentialMapping`: what the kubelet writes for a pull whose
  /// credentials it does not know, meaning "pulled, every pod must re-verify". Deleting it instead
  /// would make the image look preloaded. The record keeps its `apiVersion` (a kubelet's directory
  /// stays readable by that kubelet) and is made durable before the companion goes.
  public func retire(imageRef: String, now: Timestamp, if stillWanted: (Pulled) -> Bool) throws(PullwardenError) -> Bool {
    let name = Self.fileName(forKey: imageRef)
    let lock = try exclusiveLock(name)
    defer { withExtendedLifetime(lock) {} }
    let current = read(name: name, imageRef: imageRef).pulled
    guard case .found(var record, _) = current, !record.credentialMapping.isEmpty, stillWanted(current) else { return false }
    record.credentialMapping = [:]
    record.lastUpdatedTime = now
    try write(record.encoded(), to: pulledDirectory + "/" + name)
    do {
      // Not fsync'd: a companion a crash brings back is pruned to nothing by the next update.
      _ = try removeFile(expiryDirectory + "/" + name)
    } catch {
      throw PullwardenError(.records, "cannot remove the credential expiry file: \(error)", at: directory)
    }
    return true
  }

  /// How long a temporary file may be left before gc takes it for a crash's leftover. A live writer
  /// holds one for the time of one write and fsync (milliseconds), so an hour cannot catch a write in
  /// progress; if a writer were ever stuck that long, its rename would fail and it would report the
  /// write as failed (never as done), which only ever asks for re-verification.
  public static let temporaryFileStaleAfter = GoDuration.hours(1)

  /// The directories that may hold Pullwarden's temporary files: `pulled/`, `pulling/` and every
  /// `pullwarden-*` directory (expiry, locks, the Secret-files index, ...), each with its
  /// `.pullwarden-tmp/` folder (where `FileIO.replaceFile` writes them; older versions wrote them
  /// beside the files), those that exist.
  func directoriesWithTemporaryFiles() throws -> [String] {
    var directories: [String] = []
    for name in try Self.entries(directory) where name == "pulled" || name == "pulling" || name.hasPrefix("pullwarden-") {
      let path = directory + "/" + name
      guard try FileIO.status(path)?.type == .directory else { continue }
      directories.append(path)
      let scratch = path + "/" + FileIO.temporaryDirectoryName
      if try FileIO.status(scratch)?.type == .directory { directories.append(scratch) }
    }
    return directories
  }

  /// Removes what crashes leave behind: companions and lock files whose record is gone (each under
  /// its lock), and Pullwarden's temporary files (`FileIO.isTemporaryFileName`) older than
  /// `staleAfter` in every directory that can hold them (`directoriesWithTemporaryFiles`). Never a
  /// record or an intent: each of those keeps an image from looking preloaded. Returns the paths
  /// removed (or that would be, with `dryRun`).
  public func removeLeftovers(now: Timestamp, staleAfter: GoDuration = temporaryFileStaleAfter, dryRun: Bool) throws(PullwardenError) -> [String] {
    var removed: [String] = []
    do {
      for directory in try directoriesWithTemporaryFiles() {
        for name in try Self.entries(directory) where FileIO.isTemporaryFileName(name) {
          let path = directory + "/" + name
          guard let info = try FileIO.status(path), info.type == .regular, info.modified.duration(until: now) > staleAfter else { continue }
          if !dryRun { try FileIO.removeFile(path) }
          removed.append(path)
        }
      }
      var names = Set(try Self.entries(expiryDirectory).filter { $0.hasPrefix("sha256-") && !$0.hasSuffix(".tmp") })
      names.formUnion(try Self.entries(lockDirectory).filter { $0.hasPrefix("sha256-") })
      for name in names.sorted() {
        let companion = expiryDirectory + "/" + name
        let lockPath = lockDirectory + "/" + name
        if dryRun {
          if try FileIO.status(pulledDirectory + "/" + name) != nil { continue }
          removed += [companion, lockPath].filter { (try? FileIO.status($0)) != nil }
          continue
        }
        // Under the lock, so a provider writing this record right now is not undercut.
        guard let lock = try FileLock.acquire(lockPath, mode: .exclusive, timeout: Self.writeLockTimeout) else { continue }
        defer { withExtendedLifetime(lock) {} }
        if try FileIO.status(pulledDirectory + "/" + name) != nil { continue }
        if try FileIO.removeFile(companion) { removed.append(companion) }
        try lock.removeFile()
        removed.append(lockPath)
      }
    } catch {
      throw PullwardenError(.records, "cannot clean up the records directory: \(error)", at: directory)
    }
    return removed
  }

  /// Names in `path`, or none when it does not exist.
  private static func entries(_ path: String) throws -> [String] {
    do {
      return try FileIO.directoryEntries(path)
    } catch let error as SystemError where error.isNotFound {
      return []
    }
  }
}
