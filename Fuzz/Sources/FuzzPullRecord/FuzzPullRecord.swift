import FuzzSupport
@testable import PullwardenCore

@_cdecl("FuzzPullRecord_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, test) }

/// Pull records (`pulled/`, the kubelet's ImagePulledRecord) and pull intents (`pulling/`), decoded
/// in memory. Invariant: what decodes re-encodes to a file that decodes to the same record.
@_cdecl("LLVMFuzzerTestOneInput")
func test(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = bytes(data, size)
  do {
    let record = try ImagePulledRecord.decode(input, name: "pulled/sha256-fuzz")
    let encoded = record.encoded()
    do {
      let again = try ImagePulledRecord.decode(encoded, name: "re-encoded")
      require(again.encoded() == encoded, "a re-encoded record changes when decoded again")
    } catch {
      require(false, "a re-encoded record does not decode: \(error)")
    }
  } catch {
    requireOneLine(error.description, "record error")
  }
  do {
    let intent = try ImagePullIntent.decode(input, name: "pulling/sha256-fuzz")
    do {
      require(try ImagePullIntent.decode(intent.encoded(), name: "re-encoded") == intent, "an intent does not round-trip")
    } catch {
      require(false, "a re-encoded intent does not decode: \(error)")
    }
  } catch {
    requireOneLine(error.description, "intent error")
  }
  return 0
}
