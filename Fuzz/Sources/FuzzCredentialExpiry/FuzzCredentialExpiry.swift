import FuzzSupport
@testable import PullwardenCore

@_cdecl("FuzzCredentialExpiry_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, test) }

/// CredentialExpiry companions (`pullwarden-expiry/`), decoded in memory. Invariants: what decodes
/// re-encodes to a file that decodes to the same value; expiry questions never crash.
@_cdecl("LLVMFuzzerTestOneInput")
func test(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  do {
    let expiry = try CredentialExpiry.decode(bytes(data, size), name: "pullwarden-expiry/sha256-fuzz")
    let encoded = expiry.encoded()
    do {
      let again = try CredentialExpiry.decode(encoded, name: "re-encoded")
      require(again == expiry, "an expiry does not round-trip")
    } catch {
      require(false, "a re-encoded expiry does not decode: \(error)")
    }
    _ = expiry.latestExpiry
    let companion: CredentialExpiry? = expiry
    for (key, entries) in expiry.images {
      _ = companion.state(nodeAccessTo: key).hasExpired(at: fuzzNow)
      for secret in entries.secrets.keys { _ = companion.state(of: secret, for: key).hasExpired(at: fuzzNow) }
      for account in entries.serviceAccounts.keys { _ = companion.state(of: account, for: key).hasExpired(at: fuzzNow) }
    }
  } catch {
    requireOneLine(error.description, "expiry error")
  }
  return 0
}
