#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PullwardenCore

/// `RecordStore.hasRecord`, which provide asks before every answer (is a pull intent needed?), reads
/// only the record file, so it must agree with `pulledRecord` being `.found` in every state of the
/// store, the companion's included.
@Suite struct RecordStoreHasRecordTests {
  let directory = TemporaryDirectory()
  let image = "registry.example.com/team/app"
  var store: RecordStore { RecordStore(directory: directory.path + "/records") }
  var name: String { RecordStore.fileName(forKey: image) }

  private func agrees() -> Bool {
    let found: Bool
    if case .found = store.pulledRecord(imageRef: image) { found = true } else { found = false }
    #expect(store.hasRecord(imageRef: image) == found)
    return found
  }

  private func record() throws {
    let credential = SuppliedCredential(
      key: RegistryKey(normalizing: "registry.example.com")!, credential: RegistryCredential(username: "node", password: "node-pw"),
      origin: CredentialOrigin(secret: nil, serviceAccount: nil), expiresAt: nil, sourceName: "test")
    try PullRecorder(directory: directory.path + "/records").record(
      [credential], image: image, validFor: .minutes(5), now: Timestamp(secondsSinceEpoch: 1_700_000_000))
  }

  @Test func noStoreNoRecord() {
    #expect(!agrees())
  }

  @Test func aWrittenRecordIsFoundWhateverItsCompanionHolds() throws {
    try record()
    #expect(agrees())
    directory.write("records/pullwarden-expiry/" + name, "not json", mode: 0o600)
    #expect(agrees())
    _ = unlink(directory.path + "/records/pullwarden-expiry/" + name)
    #expect(agrees())
  }

  @Test(arguments: ["not json at all", #"{"kind":"Secret","apiVersion":"v1"}"#])
  func anUntrustedRecordIsNone(content: String) {
    directory.write("records/pulled/" + name, content, mode: 0o600)
    #expect(!agrees())
  }

  @Test func aRecordForAnotherImageIsNone() {
    directory.write("records/pulled/" + name, KubeletTestdata.pulled["testimageref"]!, mode: 0o600)
    #expect(!agrees())
  }
}
