import Synchronization

/// What one `provide` call did, collected as it runs, for the decision log and the metrics: only
/// when the config has `log:` or `metrics:` (an unobserved call builds none of this).
///
/// It reuses the facts `explain` reports: every source judged by `SourceVerdict` (status and reason
/// code), credentials by username, origin and credential hash, the cache decisions. Nothing here
/// holds a password, token or auth string.
final class ProvideObservation {
  /// When the call started (the call's `now`), and on the monotonic clock for its duration.
  let time: Timestamp
  let started: MonotonicInstant
  /// Notes the sources leave, HTTP calls with their timings included.
  let trace = ProvideTrace(mode: .provide, recordsCalls: true)
  private let collected: LoggedWarnings
  /// Forwards to the call's own diagnostics and keeps each line for the log.
  let diagnostics: Diagnostics

  var request: CredentialProviderRequest?
  var plan: Provider.Plan?
  var advice: ResponseAdvice?
  var bySource: [String: [SuppliedCredential]] = [:]
  var failure: (source: String, error: PullwardenError)?
  var outcome: Provider.Outcome?
  var records: RecordsStatus = .notReached
  private(set) var exitCode: Int32 = 0
  private(set) var error: PullwardenError?
  private(set) var milliseconds: Int64 = 0
  private(set) var seconds: Double = 0
  private(set) var warnings: [String] = []

  /// What became of the pull record.
  enum RecordsStatus: Sendable {
    /// The call failed before any record was due.
    case notReached
    /// No credential for the image: nothing to record.
    case nothingToRecord
    /// Recorded (`changed` false: the record already held every credential).
    case written(changed: Bool)
    /// The intent or the record could not be written.
    case failed(stage: String, error: String)

    var code: String {
      switch self {
      case .notReached: return "not-reached"
      case .nothingToRecord: return "none"
      case .written(let changed): return changed ? "written" : "unchanged"
      case .failed: return "failed"
      }
    }
  }

  init(now: Timestamp, diagnostics: Diagnostics) {
    time = now
    started = .now
    let collected = LoggedWarnings()
    self.collected = collected
    self.diagnostics = Diagnostics { message in
      collected.append(message)
      diagnostics.warn(message)
    }
  }

  /// Ends the observation: repeated warnings are summarized (written and kept), the time taken fixed.
  func finish(exitCode: Int32, error: PullwardenError?) {
    diagnostics.summarize()
    self.exitCode = exitCode
    self.error = error
    let elapsed = MonotonicInstant.now - started
    let (whole, attoseconds) = elapsed.components
    seconds = Double(whole) + Double(attoseconds) / 1e18
    milliseconds = whole * 1000 + attoseconds / 1_000_000_000_000_000
    warnings = collected.lines
  }

  // MARK: What the call did

  /// Every configured source with its verdict, as `explain` judges it.
  func verdicts(config: PullwardenConfig) -> [SourceVerdict] {
    guard let plan else { return [] }
    return SourceVerdict.judgeAll(
      config: config, plan: plan, bySource: bySource, handedOut: outcome?.handedOut ?? [], failure: failure, trace: trace)
  }

  /// The credentials handed out for the image.
  var handedOut: [SuppliedCredential] { outcome?.handedOut ?? [] }

  /// Sources that served a cached credential because their service failed.
  var staleSources: [String] { advice?.staleSources ?? [] }

  /// HTTP calls the sources made, with their source.
  func calls(config: PullwardenConfig) -> [(source: any CredentialSource, call: HTTPCallRecord)] {
    var calls: [(source: any CredentialSource, call: HTTPCallRecord)] = []
    for source in config.sources {
      for case .called(let call) in trace.notes(for: source.common.name) { calls.append((source, call)) }
    }
    return calls
  }

  /// "credentials", "miss" or "failed".
  var result: String {
    if exitCode != 0 { return "failed" }
    return handedOut.isEmpty ? "miss" : "credentials"
  }
}

/// Warning lines kept for the log, shared with the `Diagnostics` sink.
private final class LoggedWarnings: Sendable {
  private let store = Mutex<[String]>([])
  /// More than this many lines are counted, not kept: the log line stays bounded.
  static let limit = 20

  func append(_ line: String) {
    store.withLock { lines in
      if lines.count < Self.limit { lines.append(line) } else if lines.count == Self.limit { lines.append("… more warnings not logged") }
    }
  }

  var lines: [String] { store.withLock { $0 } }
}

extension SourceVerdict {
  /// Every configured source judged for one run, in config order: what it supplied, what it noted,
  /// and whether the run reached it (provide stops at the first failing source). Shared by `explain`
  /// and the decision log, so the two always give the same reasons.
  static func judgeAll(
    config: PullwardenConfig, plan: Provider.Plan, bySource: [String: [SuppliedCredential]], handedOut: [SuppliedCredential],
    failure: (source: String, error: PullwardenError)?, trace: ProvideTrace
  ) -> [SourceVerdict] {
    let consultedNames = plan.consulted.map(\.common.name)
    let failingIndex = failure.flatMap { failing in consultedNames.firstIndex(of: failing.source) }
    return config.sources.map { source in
      let name = source.common.name
      let reached = failingIndex.map { failing in (consultedNames.firstIndex(of: name) ?? 0) <= failing } ?? true
      return judge(
        source, image: plan.image, supplied: bySource[name] ?? [], handedOut: handedOut.filter { $0.sourceName == name }.count,
        notes: trace.notes(for: name), failure: failure?.source == name ? failure?.error : nil, reached: reached)
    }
  }
}
