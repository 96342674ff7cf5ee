#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CFileSystem
import PullwardenCore

/// How the statically linked `pullwarden` serves sources that make HTTP requests: it does not. It
/// replaces itself (same process, arguments and environment) with `pullwarden-dynamic`, the same
/// program linked against the node's glibc, which can load libcurl (see CCurl.h for why a static
/// process cannot). Callers hand off before anything is written, so the sibling does the whole call.
///
/// The sibling is looked for only beside this binary's own file (`/proc/self/exe`), never on PATH,
/// and it must be as trustworthy as the binary: a regular file in a directory that only root (or the
/// user running Pullwarden) could have written to, as every file that steers Pullwarden (FileTrust).
enum HandOff {
  static let siblingName = "pullwarden-dynamic"

  /// Set for the sibling: a sibling that cannot make HTTP requests either (a static build installed
  /// under its name) would otherwise hand the call on to itself forever.
  static let handedOffVariable = "PULLWARDEN_HANDED_OFF"

  /// Replaces this process with the sibling; `standardInput`, when given (what this process already
  /// read from stdin), becomes its standard input. Returns only by throwing.
  static func continueInSibling(standardInput: [UInt8]?) throws(PullwardenError) {
    guard let ownPath = ownPath() else {
      throw PullwardenError(
        .source, "HTTPS sources need \(siblingName) beside this binary, but /proc/self/exe cannot be read: \(reason())")
    }
    let directory = FileIO.directoryName(ownPath)
    let path = directory + "/" + siblingName
    func failure(_ why: String) -> PullwardenError {
      PullwardenError(.source, "HTTPS sources need \(siblingName) beside this binary: \(why)", at: path)
    }
    if getenv(handedOffVariable) != nil {
      throw failure("it handed the call back, so it is not the dynamically linked build; install both files from one release")
    }
    let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard directoryDescriptor >= 0 else { throw failure("cannot open \(directory): \(reason())") }
    defer { close(directoryDescriptor) }
    var info = stat()
    guard fstat(directoryDescriptor, &info) == 0 else { throw failure("cannot stat \(directory): \(reason())") }
    if let problem = FileTrust.problem(info, path: directory) { throw failure(problem.description) }

    // O_NOFOLLOW: the file itself, as installed; O_NONBLOCK: a FIFO in its place cannot stall the call.
    let descriptor = openat(directoryDescriptor, siblingName, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
    guard descriptor >= 0 else {
      throw failure(errno == ENOENT ? "it is missing (the Debian package and scripts/install-node install both)" : reason())
    }
    defer { close(descriptor) }
    guard fstat(descriptor, &info) == 0 else { throw failure(reason()) }
    guard info.st_mode & S_IFMT == S_IFREG else { throw failure("it is not a regular file") }
    if let problem = FileTrust.problem(info, path: path) { throw failure(problem.description) }

    if let standardInput { try replaceStandardInput(with: standardInput, failure: failure) }
    setenv(handedOffVariable, "1", 1)
    let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
    fexecve(descriptor, arguments, environ)
    throw failure("cannot run it: \(reason())")
  }

  /// This binary's path, from the kernel (symbolic links such as /usr/bin/pullwarden resolved).
  private static func ownPath() -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { return nil }
    return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Makes fd 0 a file in memory holding `bytes`, read from its start: stdin itself is used up, and
  /// a pipe could not hold a request larger than its buffer before the sibling starts reading.
  private static func replaceStandardInput(
    with bytes: [UInt8], failure: (String) -> PullwardenError
  ) throws(PullwardenError) {
    let file = CFileSystem_memoryFile("pullwarden-request")
    guard file >= 0 else { throw failure("cannot pass the request on: memfd_create: \(reason())") }
    defer { close(file) }
    var offset = 0
    while offset < bytes.count {
      let written = bytes.withUnsafeBytes { write(file, $0.baseAddress! + offset, bytes.count - offset) }
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else { throw failure("cannot pass the request on: write: \(reason())") }
      offset += written
    }
    guard lseek(file, 0, SEEK_SET) == 0, dup2(file, 0) == 0 else {
      throw failure("cannot pass the request on: \(reason())")
    }
  }

  private static func reason() -> String { String(cString: strerror(errno)) }
}
