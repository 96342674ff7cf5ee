import FuzzSupport
@testable import PullwardenCore
import Glibc

@_cdecl("FuzzVerifyBatch_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, test) }

/// `pullwarden verify --batch`: JSON Lines read by the real LineReader from a file, each answered by a
/// VerifySession over a records directory written by the record store (one image recorded with a
/// Secret). The line limit is small here (1 KiB) so over-long lines are reached.
/// Invariants: one answer line per non-blank input line in both formats, whatever the lines hold.
let directory = scratchDirectory + "/verify-batch"
let inputPath = directory + "/stdin"

nonisolated(unsafe) let sessions: [VerifySession] = {  // libFuzzer calls the target on one thread
  let records = directory + "/records"
  makeDirectory(records)
  let secret = ImagePullSecret(uid: "uid-1", namespace: "team-a", name: "team-a-pull", credentialHash: "hash-1")
  do {
    _ = try RecordStore(directory: records).update(imageRef: "registry.example.com/team/app") { record, expiry in
      let credentials = ImagePullCredentials(kubernetesSecrets: [secret])
      record = ImagePulledRecord(
        lastUpdatedTime: fuzzNow, imageRef: "registry.example.com/team/app",
        credentialMapping: ["registry.example.com/team/app": credentials])
      var companion = CredentialExpiry(imageRef: "registry.example.com/team/app", lastUpdatedTime: fuzzNow)
      companion.extend(secret, for: "registry.example.com/team/app", until: Timestamp(secondsSinceEpoch: fuzzNow.secondsSinceEpoch + 3600))
      expiry = companion
    }
    return try VerifyOptions.Format.allCases.map { format throws(PullwardenError) in
      var options = VerifyOptions(recordsDirectory: records)
      options.format = format
      return try VerifySession(options: options, batch: true, diagnostics: checkedDiagnostics())
    }
  } catch {
    fatalError("fuzz records do not load: \(error)")
  }
}()

@_cdecl("LLVMFuzzerTestOneInput")
func test(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = bytes(data, size)
  _ = sessions
  writeFile(inputPath, input)
  for session in sessions {
    let fd = open(inputPath, O_RDONLY | O_CLOEXEC)
    require(fd >= 0, "cannot open the input")
    defer { close(fd) }
    var reader = LineReader(fd: fd, name: "stdin", limit: 1024)
    var answers: [UInt8] = []
    var expected = 0
    var number = 0
    while true {
      let item: LineReader.Item?
      do {
        item = try reader.next()
      } catch {
        require(false, "reading a regular file failed: \(error)")
        return 0
      }
      guard let item else { break }
      number += 1
      let decision: PullDecision
      switch item {
      case .tooLong:
        decision = .error(PullwardenError(.request, "request is larger than 1 KiB", at: "stdin line \(number)"))
      case .line(let line):
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
        decision = session.answer(line, source: "stdin line \(number)", now: fuzzNow).0
      }
      expected += 1
      answers += decision.rendered(session.options.format)
    }
    let lines = answers.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
    require(lines.count == expected, "\(expected) requests got \(lines.count) answer lines")
  }
  return 0
}
