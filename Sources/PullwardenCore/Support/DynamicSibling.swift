#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `pullwarden-dynamic`: the same program as the static `pullwarden`, linked against the node's glibc,
/// so it can load libcurl (`HTTPSupport`). The static binary hands every call that makes HTTP requests
/// to it (the executable's `HandOff`), and `config check` reports when it could not.
///
/// It is looked for only beside the running binary's own file (`/proc/self/exe`), never on PATH, and
/// it must be as trustworthy as the binary: a regular file, in a directory, that only root (or the
/// user running Pullwarden) could have written (`FileTrust`).
public enum DynamicSibling {
  public static let name = "pullwarden-dynamic"

  /// Opens the running binary's sibling, checked; returns an `O_CLOEXEC` descriptor (for `fexecve`)
  /// and its path. Errors say what is wrong with it, at its path.
  public static func open() throws(PullwardenError) -> (descriptor: Int32, path: String) {
    guard let ownPath = runningBinary() else {
      throw PullwardenError(.source, "HTTPS sources need \(name) beside this binary, but /proc/self/exe cannot be read: \(reason())")
    }
    let directory = FileIO.directoryName(ownPath)
    let path = directory + "/" + name
    func failure(_ why: String) -> PullwardenError {
      PullwardenError(.source, "HTTPS sources need \(name) beside this binary: \(why)", at: path)
    }
    let directoryDescriptor = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard directoryDescriptor >= 0 else { throw failure("cannot open \(directory): \(reason())") }
    defer { close(directoryDescriptor) }
    var info = stat()
    guard fstat(directoryDescriptor, &info) == 0 else { throw failure("cannot stat \(directory): \(reason())") }
    if let problem = FileTrust.problem(info, path: directory) { throw failure(problem.description) }

    // O_NOFOLLOW: the file itself, as installed; O_NONBLOCK: a FIFO in its place cannot stall the call.
    let descriptor = openat(directoryDescriptor, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
    guard descriptor >= 0 else {
      throw failure(errno == ENOENT ? "it is missing (the Debian package and scripts/install-node install both)" : reason())
    }
    var problem: String?
    if fstat(descriptor, &info) != 0 {
      problem = reason()
    } else if info.st_mode & S_IFMT != S_IFREG {
      problem = "it is not a regular file"
    } else if let untrusted = FileTrust.problem(info, path: path) {
      problem = untrusted.description
    }
    if let problem {
      close(descriptor)
      throw failure(problem)
    }
    return (descriptor, path)
  }

  /// The running binary's path, from the kernel (symbolic links such as /usr/bin/pullwarden resolved).
  private static func runningBinary() -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { return nil }
    return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  private static func reason() -> String { String(cString: strerror(errno)) }
}
