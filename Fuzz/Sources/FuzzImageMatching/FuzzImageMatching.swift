import FuzzSupport
@testable import PullwardenCore

@_cdecl("FuzzImageMatching_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, test) }

/// `matchImages` patterns, registry keys and host-label globs against image names: the input is
/// `pattern NUL image`. Tenants write registry keys, so matching must be linear (a slow input is a
/// finding: scripts/fuzz runs with -timeout).
@_cdecl("LLVMFuzzerTestOneInput")
func test(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let (patternBytes, imageBytes) = split(bytes(data, size), at: 0)
  let pattern = String(decoding: patternBytes, as: UTF8.self)
  let image = String(decoding: imageBytes, as: UTF8.self)

  // Host-label globs, as Go's filepath.Match.
  if let problem = Glob.validate(pattern) { requireOneLine(Escaping.line(problem), "glob problem") }
  _ = Glob.matches(pattern, image)

  // matchImages entries (validated) and their matching against the image as sent.
  if let parsed = try? ImagePattern(parsing: pattern) {
    _ = parsed.matches(image)
    if let reference = try? ImageReference(parsing: image) {
      _ = parsed.matches(reference.name)
    }
  }
  // Registry keys from docker configs and Secrets (not validated, as the kubelet's keyring).
  if let key = RegistryKey(normalizing: pattern) {
    let location = URLLocation(image)
    _ = key.matches(location)
    _ = key.matchesRegistry(of: location)
    if let reference = try? ImageReference(parsing: image) { _ = key.matches(reference) }
  }
  return 0
}
