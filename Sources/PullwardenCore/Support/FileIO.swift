#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call on a path, with the C error number kept for callers that branch on it.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What was attempted, in words: "open", "read", "list", "rename", ...
  public var operation: String
  public var path: String
  public var code: Int32

  public init(_ operation: String, _ path: String, code: Int32 = errno) {
    self.operation = operation
    self.path = path
    self.code = code
  }

  /// The C library's text for `code`, e.g. "No such file or directory".
  public var reason: String { String(cString: strerror(code)) }

  public var isNotFound: Bool { code == ENOENT }

  /// The last path component was a symbolic link that `O_NOFOLLOW` refused.
  public var isSymbolicLink: Bool { code == ELOOP }

  public var description: String { "cannot \(operation) \(path): \(reason)" }
}

/// Thin, typed wrappers over the few file-system calls Pullwarden needs.
///
/// Foundation's FileManager would cost start-up time on the kubelet's hot path; these are direct
/// syscalls with errno kept, in the spirit of swift-system.
public enum FileIO {
  /// The contents of the regular file at `path`, refusing files larger than `limit` bytes.
  ///
  /// Anything but a regular file is refused at once: the open does not wait (`O_NONBLOCK`, so a FIFO
  /// with no writer cannot hang the kubelet's plugin call), and the type is checked on the open
  /// descriptor, so it cannot change between the check and the read. O_NONBLOCK does not affect reads
  /// of a regular file.
  ///
  /// - Throws: `SystemError` for open/read failures (EISDIR for a directory); `NotRegularFile` for a
  ///   FIFO, socket or device; `FileTooLarge` when the file exceeds `limit`.
  /// - Parameter followLinks: false to refuse a symbolic link as the last component (ELOOP).
  /// - Parameter trusted: true to refuse (`UntrustedFile`) a file that someone other than root or the
  ///   user running Pullwarden could have written (see `FileTrust`), checked on the open descriptor.
  public static func readFile(_ path: String, limit: Int, followLinks: Bool = true, trusted: Bool = false) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followLinks ? 0 : O_NOFOLLOW))
    guard fd >= 0 else { throw SystemError("open", path) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw SystemError("stat", path) }
    try requireRegularFile(info, path: path)
    if trusted { try FileTrust.check(info, path: path) }
    if Int(info.st_size) > limit { throw FileTooLarge(path: path, limit: limit) }
    return try readAll(fd: fd, limit: limit, name: path, sizeHint: Int(info.st_size))
  }

  /// Throws unless `info` describes a regular file.
  public static func requireRegularFile(_ info: stat, path: String) throws {
    switch info.st_mode & S_IFMT {
    case S_IFREG: return
    case S_IFDIR: throw SystemError("read", path, code: EISDIR)
    case S_IFIFO: throw NotRegularFile(path: path, found: "a FIFO")
    case S_IFSOCK: throw NotRegularFile(path: path, found: "a socket")
    case S_IFCHR: throw NotRegularFile(path: path, found: "a character device")
    case S_IFBLK: throw NotRegularFile(path: path, found: "a block device")
    default: throw NotRegularFile(path: path, found: "not a file")
    }
  }

  /// Everything readable from `fd` until end of file, refusing more than `limit` bytes.
  ///
  /// - Parameter sizeHint: the expected size (a regular file's `st_size`), so the result is allocated
  ///   once; the read still goes on to end of file, so a file that grew meanwhile is read whole.
  public static func readAll(fd: Int32, limit: Int, name: String, sizeHint: Int = 0) throws -> [UInt8] {
    var bytes: [UInt8] = []
    // One byte over the hint: the read that finds end of file needs room, or the array regrows.
    bytes.reserveCapacity(min(max(sizeHint, 0), limit) + 1)
    // Reads land in a scratch buffer and only what arrived is copied: growing the array by a
    // zero-filled chunk per read cost more than reading a small file itself.
    try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64 * 1024) { chunk in
      while true {
        // At most one byte past the limit, so an oversized input is detected, not silently cut.
        let got = read(fd, chunk.baseAddress!, min(chunk.count, limit + 1 - bytes.count))
        if got < 0 {
          if errno == EINTR { continue }
          throw SystemError("read", name)
        }
        if got == 0 { return }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[..<got]))
        if bytes.count > limit { throw FileTooLarge(path: name, limit: limit) }
      }
    }
    return bytes
  }

  /// Names in the directory at `path` (no `.` or `..`), sorted byte-wise so results are repeatable.
  ///
  /// - Parameter trusted: true to refuse (`UntrustedFile`) a directory that someone other than root or
  ///   the user running Pullwarden could write to (see `FileTrust`), checked on the open descriptor.
  public static func directoryEntries(_ path: String, trusted: Bool = false) throws -> [String] {
    guard let dir = opendir(path) else { throw SystemError("list", path) }
    defer { closedir(dir) }
    if trusted {
      var info = stat()
      guard fstat(dirfd(dir), &info) == 0 else { throw SystemError("stat", path) }
      try FileTrust.check(info, path: path)
    }
    var names: [String] = []
    while true {
      errno = 0
      guard let entry = readdir(dir) else {
        if errno != 0 { throw SystemError("list", path) }
        break
      }
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
      }
      if name == "." || name == ".." { continue }
      names.append(name)
    }
    // Sort on byte arrays made once per name: comparing Strings byte-wise costs a copy per comparison.
    return names.map { (bytes: Array($0.utf8), name: $0) }
      .sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
      .map(\.name)
  }

  /// The kind of file at `path` without following a final symbolic link, or nil if it does not exist.
  public static func fileType(_ path: String, followLinks: Bool = true) throws -> FileType? {
    var info = stat()
    let result = followLinks ? stat(path, &info) : lstat(path, &info)
    if result != 0 {
      if errno == ENOENT || errno == ENOTDIR { return nil }
      throw SystemError("stat", path)
    }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return .regular
    case S_IFDIR: return .directory
    case S_IFLNK: return .symbolicLink
    default: return .other
    }
  }

  /// What identifies one version of a file: replaced, rewritten, truncated or re-permissioned files
  /// get a different identity (inode, size, and modification and change times to the nanosecond).
  public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modifiedNanoseconds: Int64
    public var changedNanoseconds: Int64
  }

  /// The identity of the regular file at `path` (following symbolic links, as reading does); nil when
  /// there is nothing there or it is not a regular file.
  public static func identity(_ path: String) throws(SystemError) -> FileIdentity? {
    var info = stat()
    if stat(path, &info) != 0 {
      if errno == ENOENT || errno == ENOTDIR { return nil }
      throw SystemError("stat", path)
    }
    guard info.st_mode & S_IFMT == S_IFREG else { return nil }
    return FileIdentity(
      device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
      modifiedNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
      changedNanoseconds: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
  }

  public enum FileType: Sendable, Equatable {
    case regular, directory, symbolicLink, other
  }

  /// Joins a base directory and a relative path (an absolute `path` is kept), dropping `.` components
  /// and repeated slashes. `..` is kept: resolving it textually is wrong across symbolic links.
  public static func resolve(_ path: String, relativeTo base: String) -> String {
    let joined = path.hasPrefix("/") || base.isEmpty ? path : base + "/" + path
    var output: [UInt8] = []
    output.reserveCapacity(joined.utf8.count)
    // Walk components byte by byte; cheaper at start-up than split/filter/joined.
    var component: [UInt8] = []
    func flush() {
      if component.isEmpty || component == [UInt8(ascii: ".")] {
        component.removeAll(keepingCapacity: true)
        return
      }
      if !output.isEmpty && output.last != UInt8(ascii: "/") { output.append(UInt8(ascii: "/")) }
      output.append(contentsOf: component)
      component.removeAll(keepingCapacity: true)
    }
    if joined.hasPrefix("/") { output.append(UInt8(ascii: "/")) }
    for byte in joined.utf8 {
      if byte == UInt8(ascii: "/") { flush() } else { component.append(byte) }
    }
    flush()
    return output.isEmpty ? "." : String(decoding: output, as: UTF8.self)
  }

  /// The directory part of `path` ("." when there is none).
  public static func directoryName(_ path: String) -> String {
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
    if slash == path.utf8.startIndex { return "/" }
    return String(path[..<slash])
  }

  /// The current working directory, used to make configured paths absolute in messages.
  public static func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buffer, buffer.count) != nil else { return "." }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// Byte-wise order of the UTF-8 forms (what `ls` with LC_ALL=C shows). String's own `<` compares
/// canonical equivalents as equal, and Character-wise comparison is far slower.
public func bytewiseLess(_ lhs: String, _ rhs: String) -> Bool {
  var lhs = lhs, rhs = rhs
  return lhs.withUTF8 { a in
    rhs.withUTF8 { b in
      let common = min(a.count, b.count)
      let order = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
      return order != 0 ? order < 0 : a.count < b.count
    }
  }
}

/// A path that should name a regular file names a FIFO, socket or device, which could block a read or
/// never end.
public struct NotRegularFile: Error, Sendable, Equatable, CustomStringConvertible {
  public var path: String
  /// "a FIFO", "a socket", ...
  public var found: String
  public var description: String { "cannot read \(path): expected a regular file, found \(found)" }
}

/// A file or stream larger than Pullwarden accepts for its purpose.
public struct FileTooLarge: Error, Sendable, Equatable, CustomStringConvertible {
  public var path: String
  public var limit: Int
  public var description: String { "\(path) is larger than \(ByteCount(limit))" }
}

/// A byte count printed the way people read it: "1 MiB", "64 KiB", "512 bytes".
public struct ByteCount: CustomStringConvertible, Sendable {
  public var value: Int
  public init(_ value: Int) { self.value = value }
  public var description: String {
    if value >= 1 << 20 && value % (1 << 20) == 0 { return "\(value >> 20) MiB" }
    if value >= 1 << 10 && value % (1 << 10) == 0 { return "\(value >> 10) KiB" }
    return "\(value) bytes"
  }
}

/// Reads newline-terminated lines from a file descriptor as they arrive (for `verify --batch`, whose
/// caller may write one request and wait for its answer before writing the next).
public struct LineReader {
  public enum Item: Equatable {
    /// A line without its `\n` (and a `\r` before it).
    case line([UInt8])
    /// A line longer than the limit, skipped up to its end.
    case tooLong
  }

  private let fd: Int32
  private let name: String
  private let limit: Int
  private var buffer: [UInt8] = []
  private var start = 0
  private var finished = false
  private var discarding = false

  /// - Parameter limit: the longest line accepted, without its newline.
  public init(fd: Int32, name: String, limit: Int) {
    self.fd = fd
    self.name = name
    self.limit = limit
  }

  /// The next line, nil at end of input.
  public mutating func next() throws(SystemError) -> Item? {
    while true {
      if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
        var line = Array(buffer[start..<newline])
        start = newline + 1
        compact()
        if discarding {
          discarding = false
          return .tooLong
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return .line(line)
      }
      if buffer.count - start > limit {
        // Keep reading until the end of this line, without keeping it.
        discarding = true
        start = buffer.count
        compact()
      }
      if finished {
        guard start < buffer.count || discarding else { return nil }
        let line = Array(buffer[start...])
        start = buffer.count
        if discarding {
          discarding = false
          return .tooLong
        }
        return .line(line)
      }
      var chunk = [UInt8](repeating: 0, count: 64 * 1024)
      let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
      if got < 0 {
        if errno == EINTR { continue }
        throw SystemError("read", name)
      }
      if got == 0 { finished = true } else { buffer += chunk[..<got] }
    }
  }

  private mutating func compact() {
    if start > 1 << 16 || start == buffer.count {
      buffer.removeFirst(start)
      start = 0
    }
  }
}
