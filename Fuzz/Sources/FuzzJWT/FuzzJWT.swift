import FuzzSupport
@testable import PullwardenCore

@_cdecl("FuzzJWT_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, test) }

/// Service-account tokens (KEP-4412). Input starting with `{` is taken as the claims JSON and wrapped
/// in a token (so the claim checks are reached); anything else is the token text itself.
@_cdecl("LLVMFuzzerTestOneInput")
func test(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = bytes(data, size)
  let token: String
  if input.first == UInt8(ascii: "{") {
    let header = Base64.encode(Array(#"{"alg":"RS256","kid":"fuzz"}"#.utf8), alphabet: .urlSafe)
    token = header + "." + Base64.encode(input, alphabet: .urlSafe) + ".c2lnbmF0dXJl"
  } else {
    token = String(decoding: input, as: UTF8.self)
  }
  if let jwt = try? JWT(decoding: token) {
    for claim in ["exp", "iat", "nbf"] { _ = try? jwt.time(claim) }
    _ = jwt.audiences
  }
  do {
    let parsed = try ServiceAccountToken(token, now: fuzzNow)
    require(parsed.expiresAt > fuzzNow, "an expired token was accepted")
    require(!parsed.coordinates.uid.isEmpty && !parsed.coordinates.name.isEmpty, "a token without identity was accepted")
  } catch {
    requireOneLine(error.description, "token error")
    // Errors never quote the token.
    require(token.utf8.count < 24 || !error.description.contains(token), "an error quotes the token")
  }
  return 0
}
