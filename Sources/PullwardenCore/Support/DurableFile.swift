#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Crash-safe file replacement and the directory calls the record store needs.
extension FileIO {
  /// Replaces the file at `path` with `bytes` so that readers see either the old or the new content,
  /// and the new content survives a crash once this returns.
  ///
  /// The bytes go to a hidden temporary file in the same directory (`.<name>.<pid>.<n>.tmp`: a leading
  /// dot and a `.tmp` suffix, both of which the kubelet's record lister skips), which is fsync'd and
  /// renamed over `path`; then the directory is fsync'd so the rename itself is durable. On failure the
  /// temporary file is removed and `path` is untouched.
  ///
  /// - Parameter durable: false skips both fsyncs, for caches that are rebuilt when lost: the rename
  ///   still makes the replacement atomic, but a crash may leave the old content.
  public static func replaceFile(
    _ path: String, with bytes: [UInt8], mode: mode_t = 0o600, durable: Bool = true
  ) throws(SystemError) {
    let directory = directoryName(path)
    let name = path.utf8.lastIndex(of: UInt8(ascii: "/")).map { String(path[path.utf8.index(after: $0)...]) } ?? path
    var fd: Int32 = -1
    var temporary = ""
    for attempt in 0..<100 {
      temporary = directory + "/." + name + ".\(getpid()).\(temporarySerial.add(1, ordering: .relaxed).newValue + attempt).tmp"
      fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
      if fd >= 0 || errno != EEXIST { break }
    }
    guard fd >= 0 else { throw SystemError("create", temporary) }
    var failure: SystemError?
    let written = bytes.withUnsafeBytes { writeAll(fd: fd, buffer: $0) }
    if !written {
      failure = SystemError("write", temporary)
    } else if durable && fsync(fd) != 0 {
      failure = SystemError("fsync", temporary)
    }
    if close(fd) != 0 && failure == nil { failure = SystemError("close", temporary) }
    if failure == nil && rename(temporary, path) != 0 { failure = SystemError("rename", path) }
    if let failure {
      unlink(temporary)
      throw failure
    }
    if durable { try syncDirectory(directory) }
  }

  /// Whether `name` is one of `replaceFile`'s temporary files: `.<name>.<pid>.<n>.tmp`.
  public static func isTemporaryFileName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    let suffix = Array(".tmp".utf8)
    guard bytes.count > 1 + suffix.count, bytes.first == UInt8(ascii: "."), bytes.suffix(suffix.count).elementsEqual(suffix) else {
      return false
    }
    // The two numbers before ".tmp", each after a dot, and a name of at least one byte before them.
    let fields = bytes.dropFirst().dropLast(suffix.count).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    guard fields.count >= 3 else { return false }
    let numbers = fields.suffix(2)
    let isNumber = { (field: ArraySlice<UInt8>) in !field.isEmpty && field.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
    return numbers.allSatisfy(isNumber) && !fields.dropLast(2).allSatisfy(\.isEmpty)
  }

  /// fsync on a directory, which makes renames and unlinks inside it durable.
  public static func syncDirectory(_ path: String) throws(SystemError) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError("open", path) }
    defer { close(fd) }
    // Some file systems refuse fsync on directories; the rename is then as durable as they allow.
    if fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP { throw SystemError("fsync", path) }
  }

  /// Creates `path` and any missing parents with `mode`; existing directories are left as they are.
  public static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws(SystemError) {
    if mkdir(path, mode) == 0 { return }
    switch errno {
    case EEXIST:
      var info = stat()
      if stat(path, &info) != 0 { throw SystemError("stat", path) }
      if info.st_mode & S_IFMT != S_IFDIR { throw SystemError("create directory", path, code: ENOTDIR) }
    case ENOENT:
      let parent = directoryName(path)
      guard parent != path && parent != "." && parent != "/" else { throw SystemError("create directory", path) }
      try makeDirectories(parent, mode: mode)
      if mkdir(path, mode) != 0 && errno != EEXIST { throw SystemError("create directory", path) }
    default:
      throw SystemError("create directory", path)
    }
  }

  /// Removes the file at `path`; returns false when there was none.
  @discardableResult
  public static func removeFile(_ path: String) throws(SystemError) -> Bool {
    if unlink(path) == 0 { return true }
    if errno == ENOENT { return false }
    throw SystemError("remove", path)
  }

  /// Size and modification time of the file at `path` (not following a final symbolic link), or nil
  /// when there is none.
  public static func status(_ path: String) throws(SystemError) -> (type: FileType, size: Int, modified: Timestamp)? {
    var info = stat()
    if lstat(path, &info) != 0 {
      if errno == ENOENT || errno == ENOTDIR { return nil }
      throw SystemError("stat", path)
    }
    let type: FileType
    switch info.st_mode & S_IFMT {
    case S_IFREG: type = .regular
    case S_IFDIR: type = .directory
    case S_IFLNK: type = .symbolicLink
    default: type = .other
    }
    let modified = Timestamp(
      nanosecondsSinceEpoch: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    return (type, Int(info.st_size), modified)
  }
}

/// Distinct numbers for temporary file names within this process.
private let temporarySerial = Atomic<Int>(0)
