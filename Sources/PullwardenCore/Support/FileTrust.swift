#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Trust on disk follows ownership, as OpenSSH's `StrictModes`: Pullwarden runs as root on every node,
/// so a file or directory that steers it (config, credential files, record directories, records) must
/// be one that only root or the user running Pullwarden could have written: owned by one of them, and
/// not writable by group or others.
///
/// Only the named file or directory is checked, never its parents: a sticky, world-writable parent
/// such as `/tmp` lets nobody else replace an entry that is not theirs. Where a file is read, the check
/// is made on the open descriptor (`fstat`), so the file cannot change between check and read.
public enum FileTrust {
  /// Whether files owned by `uid` may be trusted: root's, or the effective user's.
  public static func isTrustedOwner(_ uid: uid_t) -> Bool {
    uid == 0 || uid == geteuid()
  }

  /// Why the file described by `info` (at `path`) cannot be trusted, or nil when it can.
  public static func problem(_ info: stat, path: String) -> UntrustedFile? {
    let mode = UInt32(info.st_mode & 0o7777)
    if isTrustedOwner(info.st_uid) && mode & 0o022 == 0 { return nil }
    return UntrustedFile(path: path, owner: UInt32(info.st_uid), mode: mode)
  }

  /// Throws unless the file described by `info` may be trusted.
  public static func check(_ info: stat, path: String) throws(UntrustedFile) {
    if let problem = problem(info, path: path) { throw problem }
  }

  /// Checks the directory (or file) at `path`, following a symbolic link to what it names; returns
  /// false when there is nothing there.
  @discardableResult
  public static func checkPath(_ path: String) throws -> Bool {
    var info = stat()
    if stat(path, &info) != 0 {
      if errno == ENOENT || errno == ENOTDIR { return false }
      throw SystemError("stat", path)
    }
    try check(info, path: path)
    return true
  }

  /// The user's name from /etc/passwd, or `uid N` when it has none. Only errors call this. Read
  /// directly rather than through NSS (getpwuid_r): the statically linked build would load NSS
  /// modules, shared libraries built for the node's glibc, into a process with a glibc of its own.
  static func userName(_ uid: UInt32) -> String {
    let wanted = Array(String(uid).utf8)
    if let file = try? FileIO.readFile("/etc/passwd", limit: 16 << 20) {
      for line in file.split(separator: UInt8(ascii: "\n")) {
        // name:password:uid:...
        let fields = line.split(separator: UInt8(ascii: ":"), maxSplits: 3, omittingEmptySubsequences: false)
        if fields.count > 3, !fields[0].isEmpty, fields[2].elementsEqual(wanted) {
          return String(decoding: fields[0], as: UTF8.self)
        }
      }
    }
    return "uid \(uid)"
  }
}

/// A file or directory that someone other than root or the user running Pullwarden could have written.
///
/// `refusing /etc/pullwarden/config.yaml: writable by group or others (mode 0666, owner root)`
public struct UntrustedFile: Error, Sendable, Equatable, CustomStringConvertible {
  public var path: String
  /// The owner's user ID.
  public var owner: UInt32
  /// The permission bits (`st_mode & 07777`).
  public var mode: UInt32

  public var description: String {
    var reasons: [String] = []
    if !FileTrust.isTrustedOwner(uid_t(owner)) { reasons.append("owned by a user other than root or the user running Pullwarden") }
    if mode & 0o022 != 0 { reasons.append("writable by group or others") }
    let octal = String(mode, radix: 8)
    let modeText = "0" + String(repeating: "0", count: max(0, 3 - octal.count)) + octal
    return "refusing \(path): \(reasons.joined(separator: " and ")) (mode \(modeText), owner \(FileTrust.userName(owner)))"
  }
}
