#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CFileSystem
import PullwardenCore

/// How the statically linked `pullwarden` serves sources that make HTTP requests: it does not. It
/// replaces itself (same process, arguments and environment) with `pullwarden-dynamic`
/// (`DynamicSibling`), which can load libcurl (see CCurl.h for why a static process cannot). Callers
/// hand off before anything is written, so the sibling does the whole call.
enum HandOff {
  /// Replaces this process with the sibling; `standardInput`, when given (what this process already
  /// read from stdin), becomes its standard input. Returns only by throwing.
  static func continueInSibling(standardInput: [UInt8]?) throws(PullwardenError) {
    let (descriptor, path) = try DynamicSibling.open()
    defer { close(descriptor) }
    func failure(_ why: String) -> PullwardenError { DynamicSibling.failure(why, at: path) }
    if let standardInput { try replaceStandardInput(with: standardInput, failure: failure) }
    let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
    fexecve(descriptor, arguments, environ)
    throw failure("cannot run it: \(reason())")
  }

  /// Makes fd 0 a file in memory holding `bytes`, read from its start: stdin itself is used up, and
  /// a pipe could not hold a request larger than its buffer before the sibling starts reading.
  private static func replaceStandardInput(
    with bytes: [UInt8], failure: (String) -> PullwardenError
  ) throws(PullwardenError) {
    let file = CFileSystem_memoryFile("pullwarden-request")
    guard file >= 0 else { throw failure("cannot pass the request on: memfd_create: \(reason())") }
    defer { close(file) }
    guard bytes.withUnsafeBytes({ writeAll(fd: file, buffer: $0) }) else {
      throw failure("cannot pass the request on: write: \(reason())")
    }
    guard lseek(file, 0, SEEK_SET) == 0, dup2(file, 0) == 0 else {
      throw failure("cannot pass the request on: \(reason())")
    }
  }

  private static func reason() -> String { String(cString: strerror(errno)) }
}
