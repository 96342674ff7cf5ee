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
    func failure(_ why: String) -> PullwardenError { Self.failure(why, at: path) }
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
    } else if !hasProgramInterpreter(descriptor) {
      // A static build in its place would hand the call on to itself, again and again.
      problem = "it is not a dynamically linked executable; install both files from one release"
    }
    if let problem {
      close(descriptor)
      throw failure(problem)
    }
    return (descriptor, path)
  }

  /// What is wrong with the sibling at `path`, as every caller words it.
  public static func failure(_ why: String, at path: String) -> PullwardenError {
    PullwardenError(.source, "HTTPS sources need \(name) beside this binary: \(why)", at: path)
  }

  /// Whether the open file is a 64-bit ELF executable with a program interpreter (PT_INTERP), as a
  /// dynamically linked build is and a static one is not. Reads the header and the program headers.
  static func hasProgramInterpreter(_ descriptor: Int32) -> Bool {
    var header = [UInt8](repeating: 0, count: 64)
    guard pread(descriptor, &header, header.count, 0) == header.count, header[0..<4].elementsEqual([0x7F, 0x45, 0x4C, 0x46]),
      header[4] == 2, header[5] == 1 || header[5] == 2
    else { return false }
    let littleEndian = header[5] == 1
    func field(_ bytes: [UInt8], at offset: Int, size: Int) -> Int {
      (0..<size).reduce(0) { value, index in
        value | Int(bytes[offset + (littleEndian ? index : size - 1 - index)]) << (8 * index)
      }
    }
    let tableOffset = field(header, at: 32, size: 8)
    let entrySize = field(header, at: 54, size: 2)
    let count = field(header, at: 56, size: 2)
    guard entrySize >= 4, (1...512).contains(count), tableOffset > 0 else { return false }
    var table = [UInt8](repeating: 0, count: entrySize * count)
    guard pread(descriptor, &table, table.count, off_t(tableOffset)) == table.count else { return false }
    let interpreter = 3  // PT_INTERP
    return (0..<count).contains { field(table, at: $0 * entrySize, size: 4) == interpreter }
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
