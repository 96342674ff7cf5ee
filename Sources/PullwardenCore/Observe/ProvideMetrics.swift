/// The metrics one observed `provide` call adds to the textfile (names per Prometheus conventions:
/// `pullwarden_` prefix, `_total` counters, `_seconds` histograms). Labels are bounded: source names
/// and types come from the config, outcomes and reasons from fixed sets; never an image or a user.
enum ProvideMetrics {
  /// From a few milliseconds (files only) to the kubelet's one-minute limit.
  static let callBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
  /// One HTTP request (with its retries), up to a source's 30 s default budget and beyond.
  static let requestBuckets: [Double] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

  static let calls = MetricFamily(
    "pullwarden_provide_calls_total", MetricFamily.Kind.counter,
    "Provide calls by result (credentials, miss, failed) and exit code.")
  static let sourceOutcomes = MetricFamily(
    "pullwarden_source_outcomes_total", MetricFamily.Kind.counter,
    "Sources serving the image (or asked for a Global answer) by outcome and reason, as pullwarden explain gives them.")
  static let callDuration = MetricFamily(
    "pullwarden_provide_duration_seconds", MetricFamily.Kind.histogram, "Time from the start of a provide call to its end, records included.",
    buckets: callBuckets)
  static let tokenRequestDuration = MetricFamily(
    "pullwarden_token_request_duration_seconds", MetricFamily.Kind.histogram,
    "Requests to token services (token exchange, registry token and its discovery), retries included, by source.",
    buckets: requestBuckets)
  static let apiRequestDuration = MetricFamily(
    "pullwarden_api_request_duration_seconds", MetricFamily.Kind.histogram, "Requests to the Kubernetes API server, retries included, by source.",
    buckets: requestBuckets)
  static let httpRequestFailures = MetricFamily(
    "pullwarden_http_request_failures_total", MetricFamily.Kind.counter, "HTTP requests that got no answer or a non-2xx status, by source.")
  static let recordWriteFailures = MetricFamily(
    "pullwarden_record_write_failures_total", MetricFamily.Kind.counter,
    "Pull intents (the call fails, exit 4) or pull records (the pod re-verifies) that could not be written.")
  static let expiringCredentials = MetricFamily(
    "pullwarden_credentials_expiring_within_cache_duration_total", MetricFamily.Kind.counter,
    "Credentials handed out that expire before their source's configured cacheDuration ends, so the answer is cached for less.")
  static let staleServed = MetricFamily(
    "pullwarden_stale_credentials_served_total", MetricFamily.Kind.counter,
    "Cached credentials served because the source's service failed (staleIfError), by source.")
  static let logWriteFailures = MetricFamily(
    "pullwarden_decision_log_write_failures_total", MetricFamily.Kind.counter, "Decision log lines that could not be written to the log file.")
  static let textfileResets = MetricFamily(
    "pullwarden_metrics_textfile_resets_total", MetricFamily.Kind.counter, "Times this textfile was unreadable or corrupt and started afresh.")
  static let lastCall = MetricFamily(
    "pullwarden_provide_last_call_timestamp_seconds", MetricFamily.Kind.gauge, "When the last provide call that wrote these metrics ended (Unix time).")

  /// Every family, in the order a fresh file lists them.
  static let families = [
    calls, sourceOutcomes, callDuration, tokenRequestDuration, apiRequestDuration, httpRequestFailures, recordWriteFailures,
    expiringCredentials, staleServed, logWriteFailures, textfileResets, lastCall,
  ]

  static func counts(for observation: ProvideObservation, config: PullwardenConfig) -> MetricsTextfile {
    var counts = MetricsTextfile()
    counts.add(calls, [("result", observation.result), ("exit_code", String(observation.exitCode))], 1)
    for verdict in observation.verdicts(config: config) where verdict.outcome != .notServed {
      counts.add(
        sourceOutcomes, [("source", verdict.source), ("type", verdict.type), ("outcome", verdict.status), ("reason", verdict.reasonCode)], 1)
    }
    counts.observe(callDuration, [], observation.seconds)
    for (source, call) in observation.calls(config: config) {
      let family = source is KubernetesSecretsSource ? apiRequestDuration : tokenRequestDuration
      counts.observe(family, [("source", source.common.name)], Double(call.milliseconds) / 1000)
      if call.status.map({ !(200..<300).contains($0) }) ?? true {
        counts.add(httpRequestFailures, [("source", source.common.name)], 1)
      }
    }
    if case .failed(let stage, _) = observation.records { counts.add(recordWriteFailures, [("stage", stage)], 1) }
    for item in observation.handedOut {
      guard let expiresAt = item.expiresAt, let source = config.sources.first(where: { $0.common.name == item.sourceName }) else { continue }
      if expiresAt <= observation.time.adding(source.common.cacheDuration) {
        counts.add(expiringCredentials, [("source", item.sourceName)], 1)
      }
    }
    for source in observation.staleSources { counts.add(staleServed, [("source", source)], 1) }
    counts.add(lastCall, [], Double(observation.time.secondsSinceEpoch) + observation.seconds.rounded(.down))
    return counts
  }
}

/// The metrics `pullwarden verify --metrics-textfile FILE` adds: its decisions by reason, counted in
/// memory and merged into the file once, when verify ends (a batch merges once, not per line).
public struct VerifyMetrics: Sendable {
  static let decisions = MetricFamily(
    "pullwarden_verify_decisions_total", MetricFamily.Kind.counter,
    "Verify decisions by outcome (use the local image, or must pull) and reason, as verify's JSON gives them.")

  private var counts = MetricsTextfile()

  public init() {}

  public mutating func count(_ decision: PullDecision) {
    counts.add(Self.decisions, [("must_pull", decision.mustPull ? "true" : "false"), ("reason", decision.reason.rawValue)], 1)
  }

  /// Merges the decisions counted so far into `path`.
  public func write(to path: String) throws(PullwardenError) {
    do {
      try MetricsTextfile.merge(counts, into: path)
    } catch {
      throw PullwardenError(.output, error.description, at: "--metrics-textfile")
    }
  }
}
