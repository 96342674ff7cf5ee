import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PullwardenCore

@Suite("Reading files and pipes whole, within a limit")
struct FileIOTests {
  /// Bytes that differ from position to position, so a chunk copied to the wrong place shows.
  static func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 251) } }

  /// Writes `bytes` into a pipe from another thread and reads them back with `readAll`.
  static func readThroughPipe(_ bytes: [UInt8], limit: Int) throws -> [UInt8] {
    var ends: [Int32] = [0, 0]
    #expect(pipe(&ends) == 0)
    let (readEnd, writeEnd) = (ends[0], ends[1])
    // When the reader gives up early, the writer's next write must fail, not kill the test process.
    signal(SIGPIPE, SIG_IGN)
    // A pipe holds 64 KiB: the writer must run beside the reader, and writes in pieces so reads
    // return short counts, as they do from the kubelet.
    let writer = DispatchGroup()
    DispatchQueue.global().async(group: writer) {
      var offset = 0
      while offset < bytes.count {
        let piece = min(10_000, bytes.count - offset)
        let written = bytes.withUnsafeBytes { write(writeEnd, $0.baseAddress! + offset, piece) }
        if written <= 0 { break }  // the reader stopped early (limit exceeded): EPIPE
        offset += written
      }
      close(writeEnd)
    }
    // Runs in reverse order: close the read end first, so a writer blocked on a full pipe ends.
    defer { writer.wait() }
    defer { close(readEnd) }
    return try FileIO.readAll(fd: readEnd, limit: limit, name: "stdin")
  }

  @Test("files of every size around the 64 KiB read chunk come back byte for byte",
    arguments: [0, 1, 415, 65_535, 65_536, 65_537, 200_000])
  func fileSizes(size: Int) throws {
    let directory = TemporaryDirectory()
    let path = directory.path + "/file"
    let bytes = Self.pattern(size)
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    #expect(try FileIO.readFile(path, limit: 1 << 20) == bytes)
  }

  @Test("a pipe is read to its end across many short reads")
  func pipeAcrossChunks() throws {
    let bytes = Self.pattern(300_000)
    #expect(try Self.readThroughPipe(bytes, limit: 1 << 20) == bytes)
  }

  @Test("exactly the limit is accepted; one byte more is refused, from a pipe as from a file")
  func limit() throws {
    let bytes = Self.pattern(70_000)
    #expect(try Self.readThroughPipe(bytes, limit: 70_000) == bytes)
    #expect(throws: FileTooLarge.self) { try Self.readThroughPipe(bytes, limit: 69_999) }

    let directory = TemporaryDirectory()
    let path = directory.write("file", String(repeating: "x", count: 1000))
    #expect(try FileIO.readFile(path, limit: 1000).count == 1000)
    #expect(throws: FileTooLarge.self) { try FileIO.readFile(path, limit: 999) }
  }

  @Test("a size hint smaller than the file (it grew after fstat) still reads it whole")
  func staleSizeHint() throws {
    let directory = TemporaryDirectory()
    let path = directory.path + "/file"
    let bytes = Self.pattern(100_000)
    let writeFD = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    _ = bytes.withUnsafeBytes { write(writeFD, $0.baseAddress, $0.count) }
    close(writeFD)
    let fd = open(path, O_RDONLY)
    defer { close(fd) }
    #expect(try FileIO.readAll(fd: fd, limit: 1 << 20, name: path, sizeHint: 10) == bytes)
  }
}

/// Never block: a FIFO, socket or device where a file is expected is refused at once. Without
/// O_NONBLOCK, opening a FIFO that has no writer waits forever (these tests hang on such code).
@Suite struct NonBlockingFileTests {
  let directory = TemporaryDirectory()

  private func fifo(_ name: String) -> String {
    let path = directory.path + "/" + name
    #expect(mkfifo(path, 0o600) == 0)
    return path
  }

  @Test func readFileRefusesFIFOsAndDevices() throws {
    let path = fifo("fifo")
    #expect(throws: NotRegularFile(path: path, found: "a FIFO")) { try FileIO.readFile(path, limit: 100) }
    #expect(throws: NotRegularFile(path: "/dev/null", found: "a character device")) { try FileIO.readFile("/dev/null", limit: 100) }
    #expect(throws: SystemError("read", directory.path, code: EISDIR)) { try FileIO.readFile(directory.path, limit: 100) }
  }

  @Test func aConfigThatIsAFIFOIsAnError() {
    let path = fifo("config.yaml")
    expectError(.config, containing: ["cannot read \(path): expected a regular file, found a FIFO"]) {
      _ = try PullwardenConfig.load(path: path)
    }
  }

  @Test func aDockerConfigThatIsAFIFOIsAnError() throws {
    _ = fifo("docker.json")
    let config = directory.write(
      "config.yaml", "sources: [{name: node, type: dockerConfig, matchImages: ['r.io'], path: docker.json}]\n")
    let provider = Provider(config: try PullwardenConfig.load(path: config))
    let request = try CredentialProviderRequest.decode(requestJSON(image: "r.io/app").bytes)
    expectError(.source, containing: ["expected a regular file, found a FIFO"]) {
      _ = try provider.provide(request, now: Timestamp(secondsSinceEpoch: 1_700_000_000))
    }
  }

  @Test func aCredentialCacheEntryThatIsAFIFOIsIgnored() throws {
    let warnings = WarningLog()
    let cache = CredentialCache(
      settings: CredentialCacheSettings(directory: directory.path + "/cache", keying: .token), diagnostics: warnings.diagnostics)
    #expect(cache.prepareDirectory())
    _ = fifo("cache/entry.json")
    #expect(cache.load("entry.json", now: Timestamp(secondsSinceEpoch: 1_700_000_000)) == nil)
    #expect(warnings.all.contains { $0.contains("not a private regular file") })
  }
}

@Suite("Atomic replacement and its temporary files")
struct ReplaceFileTests {
  /// A process id that no longer exists: a child's, after it was reaped.
  static func deadProcessID() -> pid_t {
    var child: pid_t = 0
    var arguments: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
    defer { free(arguments[0]) }
    #expect(posix_spawn(&child, "/bin/true", nil, nil, &arguments, nil) == 0)
    var status: Int32 = 0
    waitpid(child, &status, 0)
    return child
  }

  @Test func aWriteSweepsTheTemporaryFilesOfDeadWritersOnly() throws {
    let directory = TemporaryDirectory()
    let scratch = directory.path + "/.pullwarden-tmp"
    let dead = Self.deadProcessID()
    // A killed writer's file, a live writer's (this process's parent: alive, not us), and a stranger.
    directory.write(".pullwarden-tmp/.sha256-a.\(dead).1.tmp", "torn")
    directory.write(".pullwarden-tmp/.sha256-b.\(getppid()).1.tmp", "in flight")
    directory.write(".pullwarden-tmp/notes", "not ours")
    try FileIO.replaceFile(directory.path + "/sha256-c", with: Array("new".utf8), durable: false)
    #expect(try FileIO.directoryEntries(scratch).sorted() == [".sha256-b.\(getppid()).1.tmp", "notes"])
    #expect(try FileIO.readFile(directory.path + "/sha256-c", limit: 100) == Array("new".utf8))
  }

  @Test(arguments: [true, false])
  func theFolderGoesWhenEmptySoNothingShowsBetweenWrites(durable: Bool) throws {
    let directory = TemporaryDirectory()
    try FileIO.replaceFile(directory.path + "/sha256-c", with: Array("one".utf8), durable: durable)
    try FileIO.replaceFile(directory.path + "/sha256-c", with: Array("two".utf8), durable: durable)
    #expect(try FileIO.directoryEntries(directory.path) == ["sha256-c"])
    #expect(try FileIO.readFile(directory.path + "/sha256-c", limit: 100) == Array("two".utf8))
  }

  @Test func aKeptFolderStaysEmptyAcrossWrites() throws {
    let directory = TemporaryDirectory()
    for content in ["one", "two", "three"] {
      try FileIO.replaceFile(directory.path + "/sha256-c", with: Array(content.utf8), durable: false, keepingTemporaryFolder: true)
      #expect(try FileIO.directoryEntries(directory.path).sorted() == [".pullwarden-tmp", "sha256-c"])
      // The exchanged-out old content is removed, not left in the folder.
      #expect(try FileIO.directoryEntries(directory.path + "/.pullwarden-tmp") == [])
      #expect(try FileIO.readFile(directory.path + "/sha256-c", limit: 100) == Array(content.utf8))
    }
  }

  @Test func aReplacementKeepsTheModeItWasAskedForNotTheOldFiles() throws {
    let directory = TemporaryDirectory()
    let path = directory.path + "/sha256-c"
    directory.write("sha256-c", "old")
    #expect(chmod(path, 0o644) == 0)
    try FileIO.replaceFile(path, with: Array("new".utf8), durable: false)
    var info = stat()
    #expect(stat(path, &info) == 0)
    #expect(info.st_mode & 0o777 == 0o600)
    #expect(try FileIO.readFile(path, limit: 100) == Array("new".utf8))
  }

  @Test(arguments: [true, false])
  func aDirectoryInThePlaceOfTheFileIsLeftAndReported(durable: Bool) throws {
    let directory = TemporaryDirectory()
    #expect(mkdir(directory.path + "/sha256-c", 0o700) == 0)
    directory.write("sha256-c/inside", "kept")
    #expect(throws: SystemError.self) {
      try FileIO.replaceFile(directory.path + "/sha256-c", with: Array("x".utf8), durable: durable)
    }
    #expect(try FileIO.fileType(directory.path + "/sha256-c") == .directory)
    #expect(try FileIO.readFile(directory.path + "/sha256-c/inside", limit: 100) == Array("kept".utf8))
    // The failed write's temporary file is gone (its folder may stay, empty).
    #expect(try FileIO.directoryEntries(directory.path + "/.pullwarden-tmp") == [])
  }

  @Test(arguments: [false, true])
  func aPlantedLinkInPlaceOfTheFolderIsRefused(keepingTemporaryFolder: Bool) throws {
    let directory = TemporaryDirectory()
    #expect(symlink("/tmp", directory.path + "/.pullwarden-tmp") == 0)
    #expect(throws: SystemError.self) {
      try FileIO.replaceFile(directory.path + "/sha256-c", with: Array("x".utf8), keepingTemporaryFolder: keepingTemporaryFolder)
    }
    #expect(try FileIO.fileType(directory.path + "/sha256-c") == nil)
  }
}
