/// One whole `pullwarden provide` run, from stdin bytes to stdout bytes, without touching the
/// process's streams: the executable and the tests both call this.
public enum ProvideRun {
  /// Exit status for each kind of failure, as documented in the README.
  public static func exitCode(for kind: PullwardenError.Kind) -> Int32 {
    switch kind {
    case .request: return 1
    case .config: return 2
    case .source: return 3
    case .records: return 4
    case .output: return 5
    }
  }

  /// Loads the config, answers the request, hands the encoded response to `deliver`, then records
  /// the credentials handed out; returns the response.
  ///
  /// The order is the kubelet's for a pull (intent, pull, record): a durable pull intent (see
  /// `PullRecorder.prepare`) before the answer; when not even the intent can be written, the run fails
  /// (exit 4, nothing on stdout), as the kubelet fails a pull whose intent it cannot record. The record
  /// only after `deliver` succeeded: a run killed or failing before its answer is out leaves the intent,
  /// which makes every pod re-verify the image, never a record. A record that cannot be written after
  /// the answer only warns, for the same reason.
  ///
  /// - Parameter handOff: called when a source to be asked makes HTTP requests and this process cannot
  ///   (`HTTPSupport`), after the config and request are read and before anything else is read or
  ///   written: it continues the whole call in a process that can, and returns only by throwing.
  public static func run(
    configPath: String, input: [UInt8], now: Timestamp = .now(), diagnostics: Diagnostics = .discard,
    handOff: (() throws(PullwardenError) -> Void)? = nil,
    deliver: ([UInt8]) throws(PullwardenError) -> Void = { _ in }
  ) throws(PullwardenError) -> [UInt8] {
    // Repeated warnings end with their counts, on success and on failure alike.
    defer { diagnostics.summarize() }
    let config = try PullwardenConfig.load(path: configPath)
    // Without log: or metrics: nothing is collected, timed or written beyond the answer and record.
    guard config.observes else {
      return try answer(
        config: config, input: input, now: now, diagnostics: diagnostics, observation: nil, handOff: handOff, deliver: deliver)
    }
    let observation = ProvideObservation(now: now, diagnostics: diagnostics)
    do {
      let output = try answer(
        config: config, input: input, now: now, diagnostics: observation.diagnostics, observation: observation,
        handOff: handOff, deliver: deliver)
      observation.finish(exitCode: 0, error: nil)
      ProvideReporting.report(observation, config: config, diagnostics: diagnostics)
      return output
    } catch {
      observation.finish(exitCode: exitCode(for: error.kind), error: error)
      ProvideReporting.report(observation, config: config, diagnostics: diagnostics)
      throw error
    }
  }

  private static func answer(
    config: PullwardenConfig, input: [UInt8], now: Timestamp, diagnostics: Diagnostics, observation: ProvideObservation?,
    handOff: (() throws(PullwardenError) -> Void)?, deliver: ([UInt8]) throws(PullwardenError) -> Void
  ) throws(PullwardenError) -> [UInt8] {
    let request = try CredentialProviderRequest.decode(input)
    observation?.request = request
    let provider = Provider(config: config)
    let plan = provider.plan(for: request)
    if let handOff, plan.makesHTTPRequests, !HTTPSupport.isAvailable { try handOff() }
    // Before any source reads its index there or any record is written: never the kubelet's own
    // records, never a directory someone else could plant records in.
    try RecordStore(directory: config.recordsDirectory).checkUsableForProvide()
    let outcome = try provider.provide(
      request, now: now, diagnostics: diagnostics, stateDirectory: config.recordsDirectory, observation: observation,
      plan: plan)
    let recorder = PullRecorder(directory: config.recordsDirectory)
    let pending: PullRecorder.Pending?
    do {
      pending = try recorder.prepare(
        outcome.handedOut, image: request.reference.name,
        validFor: outcome.response.cacheDuration ?? config.defaultCacheDuration, now: now)
    } catch {
      observation?.records = .failed(stage: "intent", error: error.description)
      throw PullwardenError(
        .records, "no credentials handed out for \(request.reference.name): \(error.what)", at: error.location)
    }
    let output = outcome.response.encoded()
    try deliver(output)
    guard let pending else {
      observation?.records = .nothingToRecord
      return output
    }
    if let observation {
      let (result, failure) = recorder.commitReporting(pending, diagnostics: diagnostics)
      observation.records = failure.map { .failed(stage: "record", error: $0) } ?? .written(changed: result.recordWritten)
    } else {
      recorder.commit(pending, diagnostics: diagnostics)
    }
    return output
  }
}
