#if canImport(Glibc)
import Glibc
#endif
import FixtureKit
import Foundation
import Testing

@testable import PullwardenCore

/// `log:` and `metrics:` settings, the decision log line and its file, the metrics textfile (format,
/// histogram buckets, merging, promtool), and staleIfError in the credential cache.
@Suite struct ObserveTests {
  let directory = TemporaryDirectory()
  let now = Timestamp(secondsSinceEpoch: 1_700_000_000)

  private func load(_ yaml: String) throws -> PullwardenConfig {
    try PullwardenConfig.parse(yaml.bytes, path: "/etc/pullwarden/config.yaml")
  }

  private let docker = "sources: [{name: d, type: dockerConfig, matchImages: [a.io], path: d.json}]\n"

  private func mode(_ path: String) -> mode_t {
    var info = stat()
    stat(path, &info)
    return info.st_mode & 0o777
  }

  // MARK: Settings

  @Test func readsLogAndMetricsSettings() throws {
    let config = try load(
      docker + """
        log: {syslog: {facility: daemon}, file: {path: log/decisions.jsonl, maxBytes: 65536, keep: 3}}
        metrics: {textfile: /var/lib/node_exporter/textfile_collector/pullwarden.prom}
        """)
    #expect(config.log?.syslogFacility?.name == "daemon" && config.log?.syslogFacility?.value == LOG_DAEMON)
    let file = try #require(config.log?.file)
    #expect(file.path == "/etc/pullwarden/log/decisions.jsonl" && file.maxBytes == 65536 && file.keep == 3)
    #expect(config.metrics?.textfile == "/var/lib/node_exporter/textfile_collector/pullwarden.prom")
    #expect(config.observes)
    #expect(try load(docker + "log: {syslog: true}").log?.syslogFacility?.value == LOG_AUTHPRIV)
    let defaults = try load(docker + "log: {file: {path: /var/log/pullwarden/d.jsonl}}").log?.file
    #expect(defaults?.maxBytes == 10 << 20 && defaults?.keep == 5)
    #expect(try load(docker).observes == false)
  }

  @Test(arguments: [
    ("log: {}", "\"log\" names no destination: set syslog: true or a file (/etc/pullwarden/config.yaml:2:1, at log)"),
    ("log: {syslog: false}", "\"log\" names no destination"),
    ("log: {syslog: yes}", "\"syslog\" must be true, false or an object such as {facility: daemon}, found string"),
    ("log: {syslog: {facility: kern}}", "unknown facility \"kern\" (expected one of authpriv, auth, daemon, local0"),
    ("log: {syslog: {level: info}}", "unknown key \"level\""),
    ("log: {file: {path: x.jsonl, maxBytes: 100}}", "\"maxBytes\" must be between 4096 and 1073741824 (1 GiB)"),
    ("log: {file: {path: x.jsonl, keep: 0}}", "\"keep\" must be between 1 and 100"),
    ("log: {file: {maxBytes: 5000}}", "missing required field \"path\""),
    ("log: {file: {path: x, max: 1}}", "unknown key \"max\" (/etc/pullwarden/config.yaml:2:23, at log.file.max)"),
    ("log: {sylog: true}", "unknown key \"sylog\" (did you mean \"syslog\"?)"),
    ("metrics: {textfile: /tmp/p.txt}", "\"textfile\" must end in .prom (node-exporter's textfile collector reads only those)"),
    ("metrics: {}", "missing required field \"textfile\""),
    ("metrics: /tmp/p.prom", "\"metrics\" must be an object"),
  ])
  func rejectsBadSettings(line: String, message: String) {
    expectError(.config, containing: [message]) { _ = try load(docker + line) }
  }

  @Test func staleIfErrorNeedsTheCredentialCache() throws {
    let exchange = "sources: [{name: x, type: tokenExchange, matchImages: [a.io], endpoint: 'https://sts.example.com/t', username: u, staleIfError: true}]\n"
    expectError(.config, containing: ["\"staleIfError\" serves credentials from the credential cache, which is off: set credentialCache too (/etc/pullwarden/config.yaml:1:115, at sources[0].staleIfError)"]) {
      _ = try load(exchange)
    }
    let config = try load(exchange + "credentialCache: {dir: /var/lib/pullwarden/cache}")
    #expect((config.sources[0] as? TokenExchangeSource)?.staleIfError == true)
    expectError(.config, containing: ["\"staleIfError\" must be true or false, found string"]) {
      _ = try load(exchange.replacingOccurrences(of: "staleIfError: true", with: "staleIfError: 10m") + "credentialCache: {dir: c}")
    }
    expectError(.config, containing: ["unknown key \"staleIfError\""]) {
      _ = try load("sources: [{name: d, type: dockerConfig, matchImages: [a.io], path: d.json, staleIfError: true}]\ncredentialCache: {dir: c}")
    }
    let registry = try load(
      "sources: [{name: r, type: registryToken, matchImages: [a.io], username: u, staleIfError: true}]\ncredentialCache: {dir: c}")
    #expect((registry.sources[0] as? RegistryTokenSource)?.staleIfError == true)
  }

  // MARK: Metrics textfile

  @Test func histogramsCountEachObservationInEveryBucketAtOrAboveIt() {
    var file = MetricsTextfile()
    let family = MetricFamily("pullwarden_test_seconds", MetricFamily.Kind.histogram, "Test.", buckets: [0.01, 0.05, 0.1])
    file.observe(family, [("source", "a")], 0.05)
    file.observe(family, [("source", "a")], 0.2)
    #expect(
      file.rendered() == """
        # HELP pullwarden_test_seconds Test.
        # TYPE pullwarden_test_seconds histogram
        pullwarden_test_seconds_bucket{source="a",le="0.01"} 0
        pullwarden_test_seconds_bucket{source="a",le="0.05"} 1
        pullwarden_test_seconds_bucket{source="a",le="0.1"} 1
        pullwarden_test_seconds_bucket{source="a",le="+Inf"} 2
        pullwarden_test_seconds_sum{source="a"} 0.25
        pullwarden_test_seconds_count{source="a"} 2

        """)
  }

  @Test func mergeAddsCountersAndHistogramsAndSetsGauges() throws {
    var earlier = MetricsTextfile()
    earlier.add(ProvideMetrics.calls, [("result", "miss"), ("exit_code", "0")], 2)
    earlier.add(ProvideMetrics.lastCall, [], 100)
    earlier.observe(ProvideMetrics.callDuration, [], 0.003)
    var call = MetricsTextfile()
    call.add(ProvideMetrics.calls, [("result", "miss"), ("exit_code", "0")], 1)
    call.add(ProvideMetrics.calls, [("result", "failed"), ("exit_code", "3")], 1)
    call.add(ProvideMetrics.lastCall, [], 200)
    call.observe(ProvideMetrics.callDuration, [], 0.5)
    let merged = call.merged(into: try MetricsTextfile.parse(earlier.rendered()))
    let text = merged.rendered()
    #expect(text.contains("pullwarden_provide_calls_total{result=\"miss\",exit_code=\"0\"} 3\n"))
    #expect(text.contains("pullwarden_provide_calls_total{result=\"failed\",exit_code=\"3\"} 1\n"))
    #expect(text.contains("pullwarden_provide_last_call_timestamp_seconds 200\n"))
    #expect(text.contains("pullwarden_provide_duration_seconds_bucket{le=\"0.005\"} 1\n"))
    #expect(text.contains("pullwarden_provide_duration_seconds_bucket{le=\"0.5\"} 2\n"))
    #expect(text.contains("pullwarden_provide_duration_seconds_count 2\n"))
    // What is written reads back the same.
    #expect(try MetricsTextfile.parse(text).rendered() == text)
  }

  @Test(arguments: [
    "garbage\n",
    "# HELP a x\n# TYPE a counter\nb 1\n",
    "# TYPE a counter\na 1\n",
    "# HELP a x\n# TYPE a counter\na one\n",
    "# HELP a x\n# TYPE a summary\na 1\n",
    "# HELP a x\n# TYPE a counter\na 1\n# HELP a x\n# TYPE a counter\n",
  ])
  func refusesFilesItDidNotWrite(text: String) {
    #expect(throws: MetricsTextfile.ParseError.self) { try MetricsTextfile.parse(text) }
  }

  @Test func labelValuesAreEscaped() {
    #expect(MetricsTextfile.labelText([("a", "x\"y\\z\nw")]) == "{a=\"x\\\"y\\\\z\\nw\"}")
  }

  @Test func textfileIsMergedAndACorruptOneReplacedAndCounted() throws {
    let path = directory.path + "/collector/pullwarden.prom"
    var call = MetricsTextfile()
    call.add(ProvideMetrics.calls, [("result", "credentials"), ("exit_code", "0")], 1)
    try MetricsTextfile.merge(call, into: path)
    try MetricsTextfile.merge(call, into: path)
    var text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains("pullwarden_provide_calls_total{result=\"credentials\",exit_code=\"0\"} 2\n"))
    #expect(!text.contains("resets"))
    #expect(mode(path) == 0o644)
    directory.write("collector/pullwarden.prom", "half a fi")
    try MetricsTextfile.merge(call, into: path)
    text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains("pullwarden_provide_calls_total{result=\"credentials\",exit_code=\"0\"} 1\n"))
    #expect(text.contains("pullwarden_metrics_textfile_resets_total 1\n"))
    try expectPromtoolAccepts(path)
  }

  @Test func textfileInAnUntrustedDirectoryIsRefused() throws {
    let collector = directory.path + "/open"
    mkdir(collector, 0o777)
    chmod(collector, 0o777)
    #expect(throws: ObserveWriteError.self) { try MetricsTextfile.merge(MetricsTextfile(), into: collector + "/p.prom") }
  }

  /// Every family with every kind of label, as a real run writes them, passes `promtool check metrics`.
  @Test func everyFamilyPassesPromtool() throws {
    var file = MetricsTextfile()
    for family in ProvideMetrics.families + [VerifyMetrics.decisions] {
      if family.kind == MetricFamily.Kind.histogram {
        file.observe(family, [("source", "exchange")], 0.042)
      } else {
        file.add(family, [("source", "exchange")], 1)
      }
    }
    #expect(file.families.map(\.family.name) == (ProvideMetrics.families + [VerifyMetrics.decisions]).map(\.name))
    let path = directory.write("all.prom", file.rendered())
    try expectPromtoolAccepts(path)
  }

  /// The alert rules the README documents are valid and fire on what they are meant for.
  @Test func alertRulesPassPromtool() throws {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("deploy/prometheus").path
    let check = try Promtool.checkRules(folder + "/pullwarden-alerts.yaml")
    #expect(check == nil, "\(check ?? "")")
    let test = try Promtool.testRules(folder + "/pullwarden-alerts.test.yaml")
    #expect(test == nil, "\(test ?? "")")
  }

  // MARK: Decision log file

  @Test func logLinesAreAppendedPrivatelyAndRotatedWithinTheLimit() throws {
    let settings = LogSettings.FileSettings(path: directory.path + "/log/decisions.jsonl", maxBytes: 4096, keep: 2)
    let line = "{\"n\":\"" + String(repeating: "x", count: 991) + "\"}"  // 1000 bytes with its newline
    for _ in 0..<4 { try DecisionLog.append(line, to: settings) }
    #expect(FileManager.default.fileExists(atPath: settings.path + ".1") == false)
    #expect(mode(directory.path + "/log") == 0o700)
    #expect(mode(settings.path) == 0o600)
    try DecisionLog.append(line, to: settings)  // the fifth would pass 4096: rotate first
    #expect(try String(contentsOfFile: settings.path + ".1", encoding: .utf8).split(separator: "\n").count == 4)
    #expect(try String(contentsOfFile: settings.path, encoding: .utf8) == line + "\n")
    for _ in 0..<8 { try DecisionLog.append(line, to: settings) }
    #expect(FileManager.default.fileExists(atPath: settings.path + ".2"))
    #expect(!FileManager.default.fileExists(atPath: settings.path + ".3"))
    for name in ["", ".1", ".2"] {
      let size = try FileManager.default.attributesOfItem(atPath: settings.path + name)[.size] as? Int ?? 0
      #expect(size <= 4096 && size % 1000 == 0)
    }
  }

  @Test func logFileMustBePrivateAndNoLink() throws {
    let settings = LogSettings.FileSettings(path: directory.path + "/log/decisions.jsonl", maxBytes: 4096, keep: 2)
    directory.write("log/decisions.jsonl", "", mode: 0o644)
    chmod(directory.path + "/log", 0o700)
    chmod(settings.path, 0o644)
    #expect(throws: ObserveWriteError.self) { try DecisionLog.append("{}", to: settings) }
    unlink(settings.path)
    symlink(directory.path + "/elsewhere", settings.path)
    #expect(throws: ObserveWriteError.self) { try DecisionLog.append("{}", to: settings) }
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/elsewhere"))
  }

  @Test func timesHaveMilliseconds() {
    #expect(DecisionLog.rfc3339Milliseconds(Timestamp(nanosecondsSinceEpoch: 1_700_000_000_042_999_999)) == "2023-11-14T22:13:20.042Z")
    #expect(DecisionLog.rfc3339Milliseconds(now) == "2023-11-14T22:13:20.000Z")
  }

  // MARK: staleIfError in the credential cache

  private func exchangeContext(staleIfError: Bool, warnings: WarningLog) throws -> (TokenExchangeSource, ProvideContext, ServiceAccountToken) {
    let config = try load(
      """
      credentialCache: {dir: \(directory.path)/cache, refreshBefore: 10m}
      sources: [{name: x, type: tokenExchange, matchImages: [a.io], endpoint: 'https://sts.example.com/t', username: u, staleIfError: \(staleIfError)}]
      """)
    let text = serviceAccountJWT(expires: now.secondsSinceEpoch + 3600)
    let request = try CredentialProviderRequest(apiVersion: .v1, image: "a.io/app", serviceAccountToken: text)
    let cache = CredentialCache(settings: config.credentialCache!, diagnostics: warnings.diagnostics)
    let context = ProvideContext(request: request, scope: .image, now: now, diagnostics: warnings.diagnostics, credentialCache: cache)
    return (config.sources[0] as! TokenExchangeSource, context, try ServiceAccountToken(text, now: now))
  }

  @Test func staleIfErrorBridgesAnOutageButNeverARefusal() throws {
    let warnings = WarningLog()
    let (source, context, token) = try exchangeContext(staleIfError: true, warnings: warnings)
    let issued = ObtainedCredential(password: "issued-access-token", expiresAt: now.adding(.minutes(5)))
    // Five minutes of life, refreshBefore 10m: stored only as a stale fallback.
    #expect(try CredentialCache.obtain(in: context, source: source, token: token, identity: ["i"], staleIfError: true) { issued } == issued)
    let outage = PullwardenError(.source, "token exchange failed: cannot connect", at: "POST https://sts.example.com/t").outage(true)
    let served = try CredentialCache.obtain(in: context, source: source, token: token, identity: ["i"], staleIfError: true) {
      () throws(PullwardenError) in throw outage
    }
    #expect(served == issued)
    #expect(context.advice.staleSources == ["x"])
    #expect(
      warnings.all == [
        "source \"x\": token exchange failed: cannot connect (POST https://sts.example.com/t); serving its cached credential, valid until 2023-11-14T22:18:20Z (staleIfError)"
      ])
    let refusal = PullwardenError(.source, "token exchange refused: HTTP 401", at: "POST https://sts.example.com/t")
    #expect(throws: refusal) {
      try CredentialCache.obtain(in: context, source: source, token: token, identity: ["i"], staleIfError: true) {
        () throws(PullwardenError) in throw refusal
      }
    }
    // Expired: never served.
    var later = context
    later.now = now.adding(.minutes(5))
    #expect(throws: outage) {
      try CredentialCache.obtain(in: later, source: source, token: token, identity: ["i"], staleIfError: true) {
        () throws(PullwardenError) in throw outage
      }
    }
  }

  @Test func withoutStaleIfErrorAnOutageFails() throws {
    let warnings = WarningLog()
    let (source, context, token) = try exchangeContext(staleIfError: false, warnings: warnings)
    // Due for refresh at once (refreshBefore 10m): without staleIfError not even kept.
    let issued = ObtainedCredential(password: "issued-access-token", expiresAt: now.adding(.minutes(5)))
    _ = try CredentialCache.obtain(in: context, source: source, token: token, identity: ["i"]) { issued }
    let outage = PullwardenError(.source, "token exchange failed: cannot connect").outage(true)
    #expect(throws: outage) {
      try CredentialCache.obtain(in: context, source: source, token: token, identity: ["i"]) { () throws(PullwardenError) in throw outage }
    }
    #expect(context.advice.staleSources.isEmpty)
  }
}

/// `promtool check metrics` accepts the file, lint included.
func expectPromtoolAccepts(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
  let problem = try Promtool.checkMetrics(path)
  #expect(problem == nil, "promtool: \(problem ?? "")", sourceLocation: sourceLocation)
}
