#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes what an observed `provide` call did to the decision log and the metrics textfile. A
/// failure here never fails the pull: it is one warning on stderr (and counted in the metrics).
enum ProvideReporting {
  static func report(_ observation: ProvideObservation, config: PullwardenConfig, diagnostics: Diagnostics) {
    var logFailures = 0
    if let log = config.log {
      let line = DecisionLog.line(for: observation, config: config)
      if let facility = log.syslogFacility {
        DecisionLog.sendToSyslog(line, facility: facility, priority: DecisionLog.syslogPriority(observation))
      }
      if let file = log.file {
        do {
          try DecisionLog.append(line, to: file)
        } catch {
          logFailures += 1
          diagnostics.warn("decision log not written: \(error)")
        }
      }
    }
    if let metrics = config.metrics {
      var counts = ProvideMetrics.counts(for: observation, config: config)
      if logFailures > 0 { counts.add(ProvideMetrics.logWriteFailures, [], Double(logFailures)) }
      do {
        try MetricsTextfile.merge(counts, into: metrics.textfile)
      } catch {
        diagnostics.warn("metrics not written: \(error)")
      }
    }
  }
}

/// The decision log: one JSON object per `provide` call, on one line.
enum DecisionLog {
  /// The line (without its newline) for an observed call.
  ///
  /// `{"time": RFC 3339 UTC with milliseconds, "command": "provide", "image", "requestedImage",
  /// "serviceAccount", "sources": [{name, type, status, reason, stale}], "credentials": [{key, username,
  /// source, origin, credentialHash, expiresAt}], "cacheKeyType", "cacheDuration", "records": {status,
  /// error}, "durationMs", "warnings", "exitCode", "error"}`. Credentials appear only by username,
  /// origin and hash; errors and warnings are the secret-free lines provide writes to stderr.
  static func line(for observation: ProvideObservation, config: PullwardenConfig) -> String {
    var object = JSONObject()
    object["time"] = .string(rfc3339Milliseconds(observation.time))
    object["command"] = .string("provide")
    object["image"] = observation.request.map { .string($0.reference.name) } ?? .null
    if let request = observation.request, request.image != request.reference.name {
      object["requestedImage"] = .string(request.image)
    }
    var account: JSONValue = .null
    if let text = observation.request?.serviceAccountToken, let token = try? ServiceAccountToken(text, now: observation.time) {
      account = .object(Explanation.json(token.coordinates))
    }
    object["serviceAccount"] = account
    let stale = observation.staleSources
    object["sources"] = .array(
      observation.verdicts(config: config).map { verdict in
        var entry = JSONObject()
        entry["name"] = .string(verdict.source)
        entry["type"] = .string(verdict.type)
        entry["status"] = .string(verdict.status)
        entry["reason"] = .string(verdict.reasonCode)
        if stale.contains(verdict.source) { entry["stale"] = .bool(true) }
        return .object(entry)
      })
    object["credentials"] = .array(
      observation.handedOut.map { item in
        var entry = JSONObject()
        entry["key"] = .string(item.key.text)
        entry["username"] = .string(item.credential.username)
        entry["source"] = .string(item.sourceName)
        entry["origin"] = originJSON(item.origin)
        entry["credentialHash"] = .string(CredentialHash.of(item.credential))
        entry["expiresAt"] = item.expiresAt.map { .string($0.rfc3339) } ?? .null
        return .object(entry)
      })
    if let response = observation.outcome?.response {
      object["cacheKeyType"] = .string(response.cacheKeyType.rawValue)
      object["cacheDuration"] = response.cacheDuration.map { .string($0.description) } ?? .null
    } else {
      object["cacheKeyType"] = .null
      object["cacheDuration"] = .null
    }
    var records = JSONObject()
    records["status"] = .string(observation.records.code)
    if case .failed(let stage, let error) = observation.records {
      records["stage"] = .string(stage)
      records["error"] = .string(error)
    }
    object["records"] = .object(records)
    object["durationMs"] = .integer(observation.milliseconds)
    object["warnings"] = .array(observation.warnings.map { .string($0) })
    object["exitCode"] = .integer(Int64(observation.exitCode))
    object["error"] = observation.error.map { .string($0.description) } ?? .null
    return String(decoding: JSON.encode(.object(object)), as: UTF8.self)
  }

  static func originJSON(_ origin: CredentialOrigin) -> JSONValue {
    if let secret = origin.secret {
      return .object(["secret": .object(["namespace": .string(secret.namespace), "name": .string(secret.name), "uid": .string(secret.uid)])])
    }
    if let account = origin.serviceAccount { return .object(["serviceAccount": .object(Explanation.json(account))]) }
    return .object(["nodeWide": .bool(true)])
  }

  /// `2026-12-02T03:14:34.123Z`.
  static func rfc3339Milliseconds(_ time: Timestamp) -> String {
    let whole = time.rfc3339
    let milliseconds = (time.nanosecondsSinceEpoch % 1_000_000_000 + 1_000_000_000) % 1_000_000_000 / 1_000_000
    let digits = String(milliseconds)
    return String(whole.dropLast()) + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
  }

  // MARK: syslog

  /// Informational for an answer with credentials, notice for a miss, warning for a failed call.
  static func syslogPriority(_ observation: ProvideObservation) -> Int32 {
    switch observation.result {
    case "credentials": return LOG_INFO
    case "miss": return LOG_NOTICE
    default: return LOG_WARNING
    }
  }

  /// The identifier journald and syslog show (`SYSLOG_IDENTIFIER=pullwarden`); openlog keeps the pointer.
  nonisolated(unsafe) private static let identifier: UnsafeMutablePointer<CChar> = strdup("pullwarden")

  /// Sends `line` through glibc's syslog(3) (`/dev/log`, which journald serves under systemd). syslog
  /// reports no errors: a node without a syslog daemon silently drops the line.
  static func sendToSyslog(_ line: String, facility: LogSettings.SyslogFacility, priority: Int32) {
    openlog(identifier, LOG_PID | LOG_NDELAY, facility.value)
    line.withCString { text in
      withVaList([text]) { arguments in vsyslog(priority, "%s", arguments) }
    }
    closelog()
  }

  // MARK: The JSON Lines file

  /// How long a writer waits for another one's rotation.
  static let rotationLockTimeout = GoDuration.seconds(2)

  /// Appends `line` and a newline to the log file in one `write` (O_APPEND: lines of concurrent calls
  /// never interleave), rotating first when the file would grow past `maxBytes`.
  ///
  /// The directory is created 0700 and must be trusted (`FileTrust`); the file is created 0600 and must
  /// be a private regular file of this user, never a link.
  static func append(_ line: String, to settings: LogSettings.FileSettings) throws(ObserveWriteError) {
    let bytes = Array((line + "\n").utf8)
    let directory = FileIO.directoryName(settings.path)
    try ObserveFiles.prepareDirectory(directory, mode: 0o700)

    var fd = try openLogFile(settings.path)
    var size = try checkedSize(fd, path: settings.path)
    if size > 0 && size + Int64(bytes.count) > settings.maxBytes {
      close(fd)
      try rotate(settings, adding: Int64(bytes.count))
      fd = try openLogFile(settings.path)
      size = try checkedSize(fd, path: settings.path)
    }
    defer { close(fd) }
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
    guard written == bytes.count else {
      throw ObserveWriteError(description: written < 0 ? "\(SystemError("write", settings.path))" : "short write to \(settings.path)")
    }
  }

  private static func openLogFile(_ path: String) throws(ObserveWriteError) -> Int32 {
    // O_NONBLOCK: a FIFO planted at the path must not hang the call; the type is checked next.
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0o600)
    guard fd >= 0 else { throw ObserveWriteError(description: "\(SystemError("open", path))") }
    return fd
  }

  /// The file's size, once it is known to be a private regular file of this user.
  private static func checkedSize(_ fd: Int32, path: String) throws(ObserveWriteError) -> Int64 {
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else {
      close(fd)
      throw ObserveWriteError(description: "\(path) must be a regular file of this user with mode 0600")
    }
    return Int64(info.st_size)
  }

  /// Renames `path.(keep-1)` → `path.keep` … `path` → `path.1` under the rotation lock, unless another
  /// writer rotated while this one waited.
  static func rotate(_ settings: LogSettings.FileSettings, adding: Int64) throws(ObserveWriteError) {
    let path = settings.path
    let lock = try ObserveFiles.lock(beside: path, timeout: rotationLockTimeout)
    defer { withExtendedLifetime(lock) {} }
    var info = stat()
    if lstat(path, &info) == 0, Int64(info.st_size) + adding <= settings.maxBytes { return }
    for index in stride(from: settings.keep - 1, through: 1, by: -1) {
      if rename("\(path).\(index)", "\(path).\(index + 1)") != 0 && errno != ENOENT {
        throw ObserveWriteError(description: "\(SystemError("rename", "\(path).\(index)"))")
      }
    }
    if rename(path, "\(path).1") != 0 && errno != ENOENT {
      throw ObserveWriteError(description: "\(SystemError("rename", path))")
    }
  }
}

/// Why the decision log or the metrics textfile was not written (one type for both: each error type
/// is one more conformance record the Swift runtime scans).
struct ObserveWriteError: Error, CustomStringConvertible {
  var description: String
}

/// The directory and lock rules the decision log and the metrics textfile share.
enum ObserveFiles {
  /// Creates `directory` (with `mode`) when missing; it must be a directory that only root or this
  /// user can write (`FileTrust`), so nobody else can swap the files in it.
  static func prepareDirectory(_ directory: String, mode: mode_t) throws(ObserveWriteError) {
    do {
      try FileIO.makeDirectories(directory, mode: mode)
    } catch {
      throw ObserveWriteError(description: "\(error)")
    }
    var info = stat()
    guard lstat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
      throw ObserveWriteError(description: "\(directory) is not a directory")
    }
    if let problem = FileTrust.problem(info, path: directory) { throw ObserveWriteError(description: problem.description) }
  }

  /// The exclusive lock `.NAME.lock` beside the file at `path`.
  static func lock(beside path: String, timeout: GoDuration) throws(ObserveWriteError) -> FileLock? {
    let name = path.utf8.lastIndex(of: UInt8(ascii: "/")).map { String(path[path.utf8.index(after: $0)...]) } ?? path
    do {
      return try FileLock.acquire(FileIO.directoryName(path) + "/." + name + ".lock", mode: .exclusive, timeout: timeout)
    } catch {
      throw ObserveWriteError(description: "\(error)")
    }
  }
}
