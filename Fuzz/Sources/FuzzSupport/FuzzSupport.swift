import FuzzDriver
import Glibc
@testable import PullwardenCore

/// The signature of `LLVMFuzzerTestOneInput`.
public typealias FuzzTest = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// Runs libFuzzer on `test`; each target's `<Target>_main` returns this (see FuzzDriver.h).
public func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ test: FuzzTest) -> CInt {
  FuzzDriver_run(argc, argv, test)
}

/// The fuzzer's input as bytes.
public func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
  guard let data, size > 0 else { return [] }
  return Array(UnsafeBufferPointer(start: data, count: size))
}

/// The input split at its first `separator` byte (structure-aware targets: pattern and name, …);
/// without one, everything is the first part.
public func split(_ input: [UInt8], at separator: UInt8) -> ([UInt8], [UInt8]) {
  guard let index = input.firstIndex(of: separator) else { return (input, []) }
  return (Array(input[..<index]), Array(input[(index + 1)...]))
}

/// A fixed "now" (2025-01-01T00:00:00Z), so a run is repeatable: a crasher replays the same path.
public let fuzzNow = Timestamp(secondsSinceEpoch: 1_735_689_600)

/// Stops the run with a finding when `condition` fails. libFuzzer saves the input as a crasher.
public func require(_ condition: Bool, _ message: @autoclosure () -> String) {
  if !condition { fatalError("fuzz invariant broken: \(message())") }
}

/// Output lines that carry input text must stay one line: no newline, carriage return or other C0
/// control character (the escaping rule of errors, warnings and text answers).
public func requireOneLine(_ text: String, _ what: String) {
  require(!text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(what) is not one escaped line")
}

/// Diagnostics whose every warning is checked to be one line.
public func checkedDiagnostics() -> Diagnostics {
  Diagnostics { message in requireOneLine(message, "warning") }
}

/// A directory private to this fuzzer process, inside $PULLWARDEN_FUZZ_SCRATCH (scripts/fuzz sets it and
/// removes it afterwards), else /dev/shm (memory) or /tmp; removed when the process exits normally.
/// Targets never write anywhere else.
public let scratchDirectory: String = {
  let base =
    getenv("PULLWARDEN_FUZZ_SCRATCH").map { String(cString: $0) }
    ?? (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp")
  var template = Array("\(base)/pullwarden-fuzz-XXXXXX".utf8CString)
  let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
  guard made != nil else { fatalError("cannot create a scratch directory under \(base)") }
  let path = String(cString: template)
  scratchToRemove = path
  atexit {
    if let path = scratchToRemove { _ = system("rm -rf '\(path)'") }
  }
  return path
}()

nonisolated(unsafe) private var scratchToRemove: String?

/// Creates `path` (mode 0700) and its missing parents inside the scratch directory.
public func makeDirectory(_ path: String) {
  var prefix = ""
  for component in path.split(separator: "/") {
    prefix += "/" + component
    if mkdir(prefix, 0o700) != 0 && errno != EEXIST { fatalError("cannot create \(prefix)") }
  }
}

/// Replaces `path` with `bytes` (mode 0600).
public func writeFile(_ path: String, _ bytes: [UInt8]) {
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
  guard fd >= 0 else { fatalError("cannot write \(path)") }
  defer { close(fd) }
  var offset = 0
  while offset < bytes.count {
    let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
    if written < 0 {
      if errno == EINTR { continue }
      fatalError("cannot write \(path)")
    }
    offset += written
  }
}

/// Pullwarden's config file, validated (no file is read: parse works on the bytes), for the inputs
/// the loader reads as JSON (a first non-blank `{` or `[`) or, with `readAsJSON` false, as YAML: each
/// parser gets a target of its own (FuzzConfigJSON, FuzzConfigYAML), which both run this.
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int, readAsJSON: Bool) -> CInt {
  let input = bytes(data, size)
  let first = input.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D })
  let isJSON = first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
  guard isJSON == readAsJSON else { return 0 }
  do {
    let config = try PullwardenConfig.parse(input, path: "/etc/pullwarden/config.yaml")
    require(!config.sources.isEmpty, "a config without sources was accepted")
  } catch {
    requireOneLine(error.description, "config error")
  }
  return 0
}
