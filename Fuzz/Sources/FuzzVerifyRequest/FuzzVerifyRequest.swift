import FuzzSupport
@testable import PullwardenCore

@_cdecl("FuzzVerifyRequest_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, test) }

/// One `pullwarden verify` request, decided against records held in memory: every image has a record
/// that names one Secret (`team-a/team-a-pull`, uid `uid-1`, hash `hash-1`) and one service account
/// (`team-a/builder`, uid `uid-2`), so the matching rules are reached, not only "no record".
/// Invariants: both output formats are one line and the JSON answer reads back; "may use" is only
/// answered for credentials the record holds.
struct RecordsForEveryImage: PullRecordLookup {
  let secret = ImagePullSecret(uid: "uid-1", namespace: "team-a", name: "team-a-pull", credentialHash: "hash-1")
  let account = ImagePullServiceAccount(uid: "uid-2", namespace: "team-a", name: "builder")
  let image: String

  func pulledRecord(imageRef: String) -> RecordStore.Pulled {
    let key = (try? ImageReference(parsing: image).name) ?? image
    let credentials = ImagePullCredentials(kubernetesSecrets: [secret], kubernetesServiceAccounts: [account])
    let record = ImagePulledRecord(lastUpdatedTime: fuzzNow, imageRef: imageRef, credentialMapping: [key: credentials])
    var expiry = CredentialExpiry(imageRef: imageRef, lastUpdatedTime: fuzzNow)
    expiry.extend(secret, for: key, until: Timestamp(secondsSinceEpoch: fuzzNow.secondsSinceEpoch + 3600))
    expiry.extend(account, for: key, until: Timestamp(secondsSinceEpoch: fuzzNow.secondsSinceEpoch - 1))
    return .found(record, expiry)
  }

  func intent(image: String) -> RecordStore.Intent { .absent }
}

let verifiers: [PullVerifier] = {
  do {
    return [
      PullVerifier(policy: try CredentialVerificationPolicy(.neverVerifyPreloadedImages)),
      PullVerifier(policy: try CredentialVerificationPolicy(.alwaysVerify)),
      PullVerifier(policy: try CredentialVerificationPolicy(.neverVerifyAllowlistedImages, allowlist: ["registry.example.com/public/*"])),
    ]
  } catch {
    fatalError("fuzz policy does not load: \(error)")
  }
}()

@_cdecl("LLVMFuzzerTestOneInput")
func test(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let request: VerifyRequest
  do {
    request = try VerifyRequest.decode(bytes(data, size))
  } catch {
    requireOneLine(error.description, "request error")
    let decision = PullDecision.error(error)
    require(decision.mustPull, "an error answers \"may use\"")
    checkRendering(decision)
    return 0
  }
  let records = RecordsForEveryImage(image: request.image)
  for verifier in verifiers {
    let decision = verifier.decide(request, records: records, now: fuzzNow)
    checkRendering(decision)
    if !decision.mustPull && verifier.policy.policy == .alwaysVerify && decision.reason != .allowlisted {
      // Only the Secret with the recorded hash or coordinates can answer "may use" here (the
      // service account's recorded access has expired).
      require(
        request.podSecrets.contains { $0.credentialHash == "hash-1" || $0.hasCoordinates(of: records.secret) },
        "\"may use\" (\(decision.reason)) without the recorded credentials")
    }
  }
  return 0
}

func checkRendering(_ decision: PullDecision) {
  let text = decision.rendered(.text)
  require(text.last == UInt8(ascii: "\n") && text.dropLast().allSatisfy { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }, "a text answer is not one line")
  let json = decision.rendered(.json)
  require(json.last == UInt8(ascii: "\n") && json.dropLast().allSatisfy { $0 != UInt8(ascii: "\n") }, "a JSON answer is not one line")
  do {
    _ = try JSON.parse(Array(json.dropLast()), document: "answer", kind: .request)
  } catch {
    require(false, "a JSON answer is not JSON: \(error)")
  }
}
