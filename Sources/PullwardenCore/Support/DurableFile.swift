#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CFileSystem
import Synchronization

/// Crash-safe file replacement and the directory calls the record store needs.
extension FileIO {
  /// Replaces the file at `path` with `bytes` so that readers see either the old or the new content,
  /// and the new content survives a crash once this returns.
  ///
  /// The bytes go to a temporary file (`.<name>.<pid>.<n>.tmp`) in the directory's own
  /// `.pullwarden-tmp/` folder, which is fsync'd and renamed over `path`; then the directory is fsync'd
  /// so the rename itself is durable. On failure the temporary file is removed and `path` is untouched.
  ///
  /// A writer killed mid-way leaves its temporary file behind. Keeping them in a folder of their own
  /// lets every later write sweep them cheaply (`sweepTemporaryFiles`: those of processes that no
  /// longer exist), where a sweep of the directory itself would read every record there; so no
  /// temporary file survives the next write in the same directory. Its name starts with a dot, which
  /// the kubelet's record lister skips.
  ///
  /// - Parameter durable: false skips both fsyncs, for files whose loss or emptiness after a crash
  ///   errs on the safe side (an expiry companion) or that are rebuilt (an index): the replacement is
  ///   still atomic for readers, but a crash may leave the old content or an empty file.
  /// - Parameter keepingTemporaryFolder: leaves the folder in place for the next write instead of
  ///   removing it when empty. Making and removing it are two journaled directory changes, about a
  ///   quarter of a steady-state provide's wall time on ext4, so Pullwarden's own directories written
  ///   on every call keep it; the kubelet-format ones (`pulled/`, `pulling/`) show nothing but records
  ///   between writes.
  public static func replaceFile(
    _ path: String, with bytes: [UInt8], mode: mode_t = 0o600, durable: Bool = true,
    keepingTemporaryFolder: Bool = false
  ) throws(SystemError) {
    let directory = directoryName(path)
    let name = path.utf8.lastIndex(of: UInt8(ascii: "/")).map { String(path[path.utf8.index(after: $0)...]) } ?? path
    var scratch = try temporaryDirectory(in: directory, probablyExists: keepingTemporaryFolder)
    var fd: Int32 = -1
    var temporary = ""
    for attempt in 0..<100 {
      temporary = scratch + "/." + name + ".\(getpid()).\(temporarySerial.add(1, ordering: .relaxed).newValue + attempt).tmp"
      fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
      if fd >= 0 { break }
      // Another writer removed the (then empty) folder between our mkdir and open: make it again.
      if errno == ENOENT {
        scratch = try temporaryDirectory(in: directory)
        continue
      }
      if errno != EEXIST { break }
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
    if failure == nil && !moveIntoPlace(temporary, path, swapping: !durable) { failure = SystemError("rename", path) }
    if let failure {
      unlink(temporary)
      throw failure
    }
    if durable { try syncDirectory(directory) }
    sweepTemporaryFiles(in: scratch)
    // Left empty, the folder goes too (it fails, harmlessly, while another write is in it), so a
    // directory shows nothing of it between writes.
    if !keepingTemporaryFolder { rmdir(scratch) }
  }

  /// Puts the written `temporary` at `path`, atomically for readers.
  ///
  /// With `swapping`, an existing `path` is exchanged with `temporary` (`renameat2` with
  /// `RENAME_EXCHANGE`) and its old content removed. A plain rename over an existing file makes ext4
  /// (`auto_da_alloc`) write the new file's data out at once, about 120 µs, which was most of a
  /// steady-state provide's record update; the write-out buys a crash guarantee (old or new content,
  /// never an empty file) that a non-durable write does not promise. Its callers read an empty file as
  /// unreadable: a companion's credentials then count as expired, an index is rebuilt.
  private static func moveIntoPlace(_ temporary: String, _ path: String, swapping: Bool) -> Bool {
    if swapping {
      if CFileSystem_exchange(temporary, path) == 0 {
        if unlink(temporary) == 0 || errno != EISDIR { return true }
        // A directory had the name: put it back and fail, as rename would have.
        CFileSystem_exchange(temporary, path)
        errno = EISDIR
        return false
      }
      // ENOENT: nothing to exchange with yet; EINVAL: the file system cannot exchange.
      guard errno == ENOENT || errno == EINVAL else { return false }
    }
    return rename(temporary, path) == 0
  }

  /// The folder of temporary files beside `directory`'s files: created (0700) when missing, refused
  /// when something else (a symbolic link, a file) has its name.
  ///
  /// - Parameter probablyExists: the folder is kept between writes, so look before making it (one
  ///   system call instead of a failed mkdir and a look).
  static func temporaryDirectory(in directory: String, probablyExists: Bool = false) throws(SystemError) -> String {
    let path = directory + "/" + temporaryDirectoryName
    // Another writer may remove the folder (empty after its write) between our mkdir and lstat: then
    // make it again. Each retry means another process finished a write, so a few always suffice.
    var makeFirst = !probablyExists
    for _ in 0..<100 {
      if makeFirst {
        if mkdir(path, 0o700) == 0 { return path }
        guard errno == EEXIST else { throw SystemError("create directory", path) }
      }
      makeFirst = true
      var info = stat()
      if lstat(path, &info) != 0 {
        if errno == ENOENT { continue }
        throw SystemError("stat", path)
      }
      guard info.st_mode & S_IFMT == S_IFDIR else { throw SystemError("create directory", path, code: ENOTDIR) }
      return path
    }
    throw SystemError("create directory", path, code: EAGAIN)
  }

  /// The name of the temporary-file folder inside each directory Pullwarden writes.
  public static let temporaryDirectoryName = ".pullwarden-tmp"

  /// Removes the temporary files in `folder` whose writer (the process id in the name) no longer
  /// exists. Another process's live write is never touched; a name that does not parse is left to
  /// `records gc`. Failures are ignored: a leftover costs only space.
  public static func sweepTemporaryFiles(in folder: String) {
    guard let names = try? directoryEntries(folder) else { return }
    let own = getpid()
    for name in names {
      guard let field = temporaryFileWriterField(name), let pid = pid_t(field), pid > 0, pid != own else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH { unlink(folder + "/" + name) }
    }
  }

  /// Whether `name` is one of `replaceFile`'s temporary files: `.<name>.<pid>.<n>.tmp`.
  public static func isTemporaryFileName(_ name: String) -> Bool { temporaryFileWriterField(name) != nil }

  /// The `<pid>` digits of one of `replaceFile`'s temporary file names (`.<name>.<pid>.<n>.tmp`), or nil
  /// when `name` is not one: the one reading of that format, for the sweep and for `records gc`.
  private static func temporaryFileWriterField(_ name: String) -> String? {
    let bytes = Array(name.utf8)
    let suffix = Array(".tmp".utf8)
    guard bytes.count > 1 + suffix.count, bytes.first == UInt8(ascii: "."), bytes.suffix(suffix.count).elementsEqual(suffix) else {
      return nil
    }
    // The two numbers before ".tmp", each after a dot, and a name of at least one byte before them.
    let fields = bytes.dropFirst().dropLast(suffix.count).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    guard fields.count >= 3 else { return nil }
    let numbers = fields.suffix(2)
    let isNumber = { (field: ArraySlice<UInt8>) in !field.isEmpty && field.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
    guard numbers.allSatisfy(isNumber), !fields.dropLast(2).allSatisfy(\.isEmpty) else { return nil }
    return String(decoding: numbers.first!, as: UTF8.self)
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
