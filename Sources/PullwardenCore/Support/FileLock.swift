#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An advisory `flock` on a dedicated lock file, held until the value goes away.
///
/// The lock file is never renamed or rewritten, so every process locks the same inode; locking the
/// data file itself would not work, because an atomic replace renames a new inode over it and a
/// waiter would then hold a lock on a file nobody else sees. Lock files may still be removed (by
/// `records gc`), so after locking we check that the path still names the inode we locked, and start
/// over when it does not: whoever removes a lock file does so while holding it.
public final class FileLock {
  public let path: String
  private let fd: Int32

  private init(path: String, fd: Int32) {
    self.path = path
    self.fd = fd
  }

  deinit { close(fd) }

  public enum Mode: Sendable {
    /// For writers: creates the lock file when missing.
    case exclusive
    /// For readers: never creates anything; no lock is taken when the file does not exist.
    case shared
  }

  /// Why a lock was not taken.
  public enum Failure: Error, Sendable, CustomStringConvertible {
    case system(SystemError)
    case timedOut(path: String, after: GoDuration)

    public var description: String {
      switch self {
      case .system(let error): return error.description
      case .timedOut(let path, let after): return "gave up waiting \(after) for the lock \(path)"
      }
    }
  }

  /// Takes the lock, waiting at most `timeout` for another holder.
  ///
  /// - Returns: nil only in `.shared` mode when the lock file does not exist (nobody has written yet).
  public static func acquire(_ path: String, mode: Mode, timeout: GoDuration) throws(Failure) -> FileLock? {
    let deadline = Timestamp.now().adding(timeout)
    while true {
      let flags = mode == .exclusive ? O_RDWR | O_CREAT : O_RDONLY
      // O_NONBLOCK and the type check: a FIFO, socket or device planted where the lock file belongs
      // is refused at once instead of blocking the open (or touching a device).
      let fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
      if fd < 0 {
        if mode == .shared && errno == ENOENT { return nil }
        throw .system(SystemError("open", path))
      }
      var opened = stat()
      guard fstat(fd, &opened) == 0, opened.st_mode & S_IFMT == S_IFREG else {
        close(fd)
        throw .system(SystemError("lock what is not a regular file,", path, code: EINVAL))
      }
      let operation = mode == .exclusive ? LOCK_EX : LOCK_SH
      var pause: Int64 = 200_000
      while flock(fd, operation | LOCK_NB) != 0 {
        let code = errno
        if code == EINTR { continue }
        guard code == EWOULDBLOCK else {
          close(fd)
          throw .system(SystemError("lock", path, code: code))
        }
        if Timestamp.now() >= deadline {
          close(fd)
          throw .timedOut(path: path, after: timeout)
        }
        // Holders keep the lock for a read and a write (a few fsyncs); poll instead of blocking
        // forever, so a stuck holder costs a bounded wait instead of the kubelet's whole pull. The
        // poll stays short: a waiter that slept 50 ms let every newcomer in before it, and under 25
        // writers per image (Benchmarks/load.py, 200 providers) one starved past the timeout and its
        // credentials went unrecorded. A little jitter keeps waiters from polling in step.
        var request = timespec(tv_sec: 0, tv_nsec: Int(pause + Int64.random(in: 0...(pause / 2))))
        nanosleep(&request, nil)
        pause = min(pause * 2, 2_000_000)
      }
      // `opened` still describes the locked file: a descriptor's inode never changes.
      var current = stat()
      if stat(path, &current) == 0, opened.st_ino == current.st_ino, opened.st_dev == current.st_dev {
        return FileLock(path: path, fd: fd)
      }
      // Removed or replaced while we waited: lock whatever the path names now.
      close(fd)
    }
  }

  /// Removes the lock file while still holding it, so that waiters notice and start over.
  public func removeFile() throws(SystemError) {
    try FileIO.removeFile(path)
  }
}
