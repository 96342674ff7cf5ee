import FuzzSupport
@testable import PullwardenCore

@_cdecl("FuzzImageReference_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, test) }

/// Image references as the kubelet sends them and as verify requests and allowlists hold them.
/// Invariant: a parsed reference's normalized form parses again to the same reference.
@_cdecl("LLVMFuzzerTestOneInput")
func test(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let text = String(decoding: bytes(data, size), as: UTF8.self)
  guard let reference = try? ImageReference(parsing: text) else { return 0 }
  let again = try? ImageReference(parsing: reference.description)
  require(again == reference, "\(reference) does not parse back to itself")
  _ = URLLocation(image: reference)
  return 0
}
