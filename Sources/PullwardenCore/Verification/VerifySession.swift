/// Options of `pullwarden verify`.
public struct VerifyOptions: Sendable {
  public enum Format: String, Sendable, CaseIterable {
    case json, text
  }

  public var recordsDirectory: String
  public var policy: VerificationPolicy = .default
  public var allowlist: [String] = []
  public var rules: KubeletRules = .default
  /// Apply the kubelet's match-driven record writes (rotated Secrets). Without it nothing is written.
  public var updateRecords = false
  public var format: Format = .json

  public init(recordsDirectory: String) {
    self.recordsDirectory = recordsDirectory
  }
}

/// Reads pull records from a directory, optionally remembering what it read (`verify --batch`).
///
/// Only lookups that found something are remembered: records and intents are added by other
/// processes while a batch runs, and a remembered "absent" would let a freshly pulled private image
/// look preloaded. Remembered records can only be stale in the safe direction: merges add access
/// (the verifier then answers "must pull" where it could have said "may use"), and expiry is
/// checked against the clock at every decision.
public final class RecordReader: PullRecordLookup {
  public let store: RecordStore
  private let remember: Bool
  private let diagnostics: Diagnostics
  private var pulled: [String: RecordStore.Pulled] = [:]
  private var intents: Set<String> = []
  /// Decided once: a directory does not change from the kubelet's layout to Pullwarden's while read.
  public let keyedByImageName: Bool

  public init(store: RecordStore, remember: Bool, diagnostics: Diagnostics = .discard) {
    self.store = store
    self.remember = remember
    self.diagnostics = diagnostics
    keyedByImageName = store.isPullwardenStore
  }

  public func pulledRecord(imageRef: String) -> RecordStore.Pulled {
    if let known = pulled[imageRef] { return known }
    let result = store.pulledRecord(imageRef: imageRef, diagnostics: diagnostics)
    switch result {
    case .found, .unreadable: if remember { pulled[imageRef] = result }
    case .absent, .mismatched: break
    }
    return result
  }

  public func intent(image: String) -> RecordStore.Intent {
    if intents.contains(image) { return .present }
    let result = store.intent(image: image)
    if remember && result == .present { intents.insert(image) }
    return result
  }

  /// Forgets what was remembered about `imageRef`, after this process changed it.
  public func forget(imageRef: String) {
    pulled[imageRef] = nil
  }
}

/// Answers verify requests for one set of options: the whole of `pullwarden verify` except reading
/// stdin and writing stdout, shared by single requests and `--batch`.
public final class VerifySession {
  public let options: VerifyOptions
  public let verifier: PullVerifier
  public let reader: RecordReader
  private let diagnostics: Diagnostics
  /// Whether the directory is Pullwarden's store, the only one that may be asked without imageRef.
  private let keyedByImageName: Bool
  /// What the last `answer` wrote with `--update-records` (nil when it changed nothing), so the
  /// command can say so.
  public private(set) var written: RecordUpdate?

  /// Validates the options and the records directory.
  public init(options: VerifyOptions, batch: Bool, diagnostics: Diagnostics = .discard) throws(PullwardenError) {
    self.options = options
    self.diagnostics = diagnostics
    verifier = PullVerifier(policy: try CredentialVerificationPolicy(options.policy, allowlist: options.allowlist, rules: options.rules))
    let store = RecordStore(directory: options.recordsDirectory)
    try store.checkLayout()
    reader = RecordReader(store: store, remember: batch, diagnostics: diagnostics)
    keyedByImageName = reader.keyedByImageName
  }

  /// The decision for one encoded request, applying its record write when `--update-records` is on.
  /// A request that cannot be decoded yields an `.error` decision and the error itself.
  public func answer(_ bytes: [UInt8], source: String, now: Timestamp) -> (PullDecision, PullwardenError?) {
    written = nil
    let request: VerifyRequest
    do {
      request = try VerifyRequest.decode(bytes, source: source)
    } catch {
      return (.error(error), error)
    }
    // The kubelet keys its records by image ID: looked up by image name, an image it pulled with a
    // Secret would find no record and look preloaded. Refuse rather than guess which ID is meant.
    if request.imageRef == nil && !keyedByImageName {
      let error = PullwardenError(
        .request,
        "no imageRef, but \(options.recordsDirectory) is not Pullwarden's records directory (it has no \(CredentialExpiry.directoryName)/): the kubelet's records are keyed by image ID, so give the image's CRI ID as imageRef",
        at: source)
      return (.error(error), error)
    }
    let decision = verifier.decide(request, records: reader, now: now)
    if options.updateRecords, let update = decision.recordUpdate {
      apply(update, now: now)
    }
    return (decision, nil)
  }

  /// The kubelet's `writePulledRecordIfChanged` for a matched Secret. A failure is reported and the
  /// decision stands, as in the kubelet.
  private func apply(_ update: RecordUpdate, now: Timestamp) {
    var changed = false
    do {
      try reader.store.update(imageRef: update.imageRef, diagnostics: diagnostics) { record, expiry in
        let credentials = ImagePullCredentials(kubernetesSecrets: [update.secret])
        if let recorded = ImagePulledRecord.recording(
          credentials, forImage: update.imageName, imageRef: update.imageRef, into: record, now: now)
        {
          record = recorded
          changed = true
        }
        if case .until(let time) = update.expiry, var companion = expiry {
          companion.extend(update.secret, for: update.imageName, until: time)
          expiry = companion
        }
      }
      reader.forget(imageRef: update.imageRef)
      if changed { written = update }
    } catch {
      diagnostics.warn("the record for \(update.imageRef) was not updated: \(error)")
    }
  }

}
