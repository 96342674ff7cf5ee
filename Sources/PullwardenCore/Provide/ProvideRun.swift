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
    }
  }

  /// Loads the config, answers the request, records the credentials handed out, and returns the
  /// encoded response.
  ///
  /// Credentials are handed out only once a pull intent or record for the image is durable (see
  /// `PullRecorder.record`): when not even the intent can be written, the run fails (exit 4, nothing on
  /// stdout), as the kubelet fails a pull whose intent it cannot record. A record that cannot be
  /// written after the intent only warns: the kubelet still gets its credentials, and the intent
  /// makes every pod re-verify the image.
  public static func run(
    configPath: String, input: [UInt8], now: Timestamp = .now(), diagnostics: Diagnostics = .discard
  ) throws(PullwardenError) -> [UInt8] {
    // Repeated warnings end with their counts, on success and on failure alike.
    defer { diagnostics.summarize() }
    let config = try PullwardenConfig.load(path: configPath)
    let request = try CredentialProviderRequest.decode(input)
    // Before any source reads its index there or any record is written: never the kubelet's own
    // records, never a directory someone else could plant records in.
    try RecordStore(directory: config.recordsDirectory).checkUsableForProvide()
    let outcome = try Provider(config: config).provide(
      request, now: now, diagnostics: diagnostics, stateDirectory: config.recordsDirectory)
    do {
      try PullRecorder(directory: config.recordsDirectory).record(
        outcome.handedOut, image: request.reference.name,
        validFor: outcome.response.cacheDuration ?? config.defaultCacheDuration, now: now, diagnostics: diagnostics)
    } catch {
      throw PullwardenError(
        .records, "no credentials handed out for \(request.reference.name): \(error.what)", at: error.location)
    }
    return outcome.response.encoded()
  }
}
