import FuzzSupport
@testable import PullwardenCore

@_cdecl("FuzzConfigJSON_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, test) }

/// Pullwarden's config file, validated (no file is read: parse works on the bytes). This target
/// takes only inputs that the loader reads as JSON (a first non-blank `{` or `[` means JSON), so
/// each parser gets a target of its own.
let readAsJSON = true

@_cdecl("LLVMFuzzerTestOneInput")
func test(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
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
