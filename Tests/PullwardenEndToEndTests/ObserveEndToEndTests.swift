import FixtureKit
import Foundation
import Synchronization
import Testing

/// The decision log, the metrics textfile and staleIfError through the real binary: what the log
/// line and the metrics say, that neither holds a secret, that concurrent calls merge, that a
/// logging failure never fails a pull, and that a token service taken down mid-run is bridged by the
/// cached credential only when staleIfError says so, and never after a refusal.
@Suite struct ObserveEndToEndTests {
  let scratch: Scratch
  let token: String
  static let password = "observe-secret-pw"

  init() throws {
    scratch = try Scratch()
    token = makeJWT(expiresIn: 3600)
  }

  private func id() -> String { UUID().uuidString.lowercased().prefix(12).description }

  private func tokenRequest() -> String {
    request(image: "registry.example.com/team/app", extra: ",\"serviceAccountToken\":\"\(token)\",\"serviceAccountAnnotations\":{}")
  }

  private func exchangeConfig(endpoint: String, caFile: String, staleIfError: Bool) throws -> String {
    try scratch.write(
      "config.yaml",
      """
      recordsDir: records
      credentialCache: {dir: cache, refreshBefore: 10m}
      log: {file: {path: log/decisions.jsonl}}
      metrics: {textfile: metrics/pullwarden.prom}
      sources:
        - name: exchange
          type: tokenExchange
          matchImages: ["registry.example.com"]
          endpoint: \(endpoint)
          username: oauth2
          caFile: \(caFile)
          attempts: 1
          staleIfError: \(staleIfError)
      """)
  }

  private func dockerConfig(log: String = "log: {file: {path: log/decisions.jsonl}}") throws -> String {
    try scratch.write("docker.json", #"{"auths":{"registry.example.com":{"username":"robot","password":"\#(Self.password)"}}}"#)
    return try scratch.write(
      "config.yaml",
      """
      recordsDir: records
      \(log)
      metrics: {textfile: metrics/pullwarden.prom}
      sources:
        - {name: docker, type: dockerConfig, matchImages: ["registry.example.com"], path: docker.json}
      """)
  }

  private func logLines() throws -> [[String: Any]] {
    try String(contentsOfFile: scratch.path + "/log/decisions.jsonl", encoding: .utf8).split(separator: "\n").map { try jsonObject(String($0)) }
  }

  private func metrics() throws -> String { try String(contentsOfFile: scratch.path + "/metrics/pullwarden.prom", encoding: .utf8) }

  private func seconds(_ duration: Any?) throws -> Int {
    let text = try #require(duration as? String)
    let minutes = text.split(separator: "m").first.flatMap { Int($0) } ?? 0
    let rest = text.split(separator: "m").last.map { $0.dropLast() }.flatMap { Int($0) } ?? 0
    return minutes * 60 + rest
  }

  /// Neither the log nor the metrics may hold a password, token or auth string.
  private func expectNoSecret(_ secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let texts = [try String(contentsOfFile: scratch.path + "/log/decisions.jsonl", encoding: .utf8), try metrics()]
    for text in texts {
      for secret in secrets + secrets.flatMap({ $0.split(separator: ".").map(String.init) }) where secret.count >= 8 {
        #expect(!text.contains(secret), "a secret in \(text)", sourceLocation: sourceLocation)
        #expect(!text.contains(Data(secret.utf8).base64EncodedString()), sourceLocation: sourceLocation)
      }
    }
  }

  // MARK: Log and metrics

  @Test func logsOneLinePerCallAndCountsIt() throws {
    let config = try dockerConfig()
    let hit = try Pullwarden.run(["provide", "--config", config], stdin: request(image: "registry.example.com/team/app:v1"))
    let miss = try Pullwarden.run(["provide", "--config", config], stdin: request(image: "other.example.org/app"))
    let bad = try Pullwarden.run(["provide", "--config", config], stdin: "{")
    #expect(hit.status == 0 && hit.stderr.isEmpty)
    #expect(miss.status == 0 && miss.stderr.hasPrefix("pullwarden: warning: no credentials for other.example.org/app"))
    #expect(bad.status == 1)
    let lines = try logLines()
    #expect(lines.count == 3)
    let first = lines[0]
    #expect(Set(first.keys) == [
      "time", "command", "image", "requestedImage", "serviceAccount", "sources", "credentials", "cacheKeyType", "cacheDuration",
      "records", "durationMs", "warnings", "exitCode", "error",
    ])
    #expect((first["time"] as? String)?.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
    #expect(first["image"] as? String == "registry.example.com/team/app")
    #expect(first["requestedImage"] as? String == "registry.example.com/team/app:v1")
    #expect(first["sources"] as? [[String: String]] == [["name": "docker", "type": "dockerConfig", "status": "served", "reason": "served"]])
    let credential = try #require((first["credentials"] as? [[String: Any]])?.first)
    #expect(credential["username"] as? String == "robot")
    #expect((credential["origin"] as? [String: Bool]) == ["nodeWide": true])
    #expect((credential["credentialHash"] as? String)?.count == 64)
    #expect(first["cacheKeyType"] as? String == "Image" && first["cacheDuration"] as? String == "5m0s")
    #expect(first["records"] as? [String: String] == ["status": "written"])
    #expect(first["exitCode"] as? Int == 0 && first["error"] is NSNull)
    #expect(lines[1]["sources"] as? [[String: String]] == [["name": "docker", "type": "dockerConfig", "status": "not-served", "reason": "matchImages-label"]])
    #expect((lines[1]["warnings"] as? [String])?.first == String(miss.stderr.dropFirst("pullwarden: warning: ".count).dropLast()))
    #expect(lines[1]["records"] as? [String: String] == ["status": "none"])
    #expect(lines[2]["exitCode"] as? Int == 1 && lines[2]["image"] is NSNull)
    #expect((lines[2]["error"] as? String).map { bad.stderr == "pullwarden: \($0)\n" } == true)
    let text = try metrics()
    #expect(text.contains("pullwarden_provide_calls_total{result=\"credentials\",exit_code=\"0\"} 1\n"))
    #expect(text.contains("pullwarden_provide_calls_total{result=\"miss\",exit_code=\"0\"} 1\n"))
    #expect(text.contains("pullwarden_provide_calls_total{result=\"failed\",exit_code=\"1\"} 1\n"))
    #expect(text.contains("pullwarden_source_outcomes_total{source=\"docker\",type=\"dockerConfig\",outcome=\"served\",reason=\"served\"} 1\n"))
    #expect(text.contains("pullwarden_provide_duration_seconds_count 3\n"))
    try expectPromtoolAccepts(scratch.path + "/metrics/pullwarden.prom")
    try expectNoSecret([Self.password, "robot:" + Self.password])
    let mode = { (path: String) in try FileManager.default.attributesOfItem(atPath: scratch.path + path)[.posixPermissions] as? Int }
    #expect(try mode("/log") == 0o700 && mode("/log/decisions.jsonl") == 0o600 && mode("/metrics/pullwarden.prom") == 0o644)
  }

  /// Concurrent calls: every line whole, every call counted once (the textfile merge is locked).
  @Test func concurrentCallsEachLogAndCountOnce() throws {
    let config = try dockerConfig()
    let calls = 8
    let results = Mutex<[Int32]>([])
    DispatchQueue.concurrentPerform(iterations: calls) { index in
      let result = try? Pullwarden.run(["provide", "--config", config], stdin: request(image: "registry.example.com/app\(index)"))
      results.withLock { $0.append(result?.status ?? -1) }
    }
    #expect(results.withLock { $0 } == Array(repeating: 0, count: calls))
    let lines = try logLines()
    #expect(lines.count == calls)
    #expect(Set(lines.compactMap { $0["image"] as? String }).count == calls)
    let text = try metrics()
    #expect(text.contains("pullwarden_provide_calls_total{result=\"credentials\",exit_code=\"0\"} \(calls)\n"), "\(text)")
    #expect(text.contains("pullwarden_provide_duration_seconds_count \(calls)\n"))
    try expectPromtoolAccepts(scratch.path + "/metrics/pullwarden.prom")
  }

  @Test func aLogThatCannotBeWrittenNeverFailsThePull() throws {
    try scratch.write("blocked", "a file where the log directory should be")
    let config = try dockerConfig(log: "log: {file: {path: blocked/decisions.jsonl}}")
    let result = try Pullwarden.run(["provide", "--config", config], stdin: request(image: "registry.example.com/app"))
    #expect(result.status == 0)
    #expect(result.stdout.contains(Self.password))
    #expect(result.stderr.hasPrefix("pullwarden: warning: decision log not written: "), "\(result.stderr)")
    #expect(try metrics().contains("pullwarden_decision_log_write_failures_total 1\n"))
  }

  /// A config without log: and metrics: writes neither.
  @Test func nothingIsWrittenWithoutLogOrMetrics() throws {
    try scratch.write("docker.json", #"{"auths":{"registry.example.com":{"username":"robot","password":"\#(Self.password)"}}}"#)
    let config = try scratch.write(
      "config.yaml",
      "recordsDir: records\nsources: [{name: docker, type: dockerConfig, matchImages: [registry.example.com], path: docker.json}]\n")
    let result = try Pullwarden.run(["provide", "--config", config], stdin: request(image: "registry.example.com/app"))
    #expect(result.status == 0)
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == ["config.yaml", "docker.json", "records"])
  }

  /// verify --metrics-textfile counts its decisions by reason into the same file provide writes.
  @Test func verifyCountsItsDecisionsByReason() throws {
    let config = try dockerConfig()
    #expect(try Pullwarden.run(["provide", "--config", config], stdin: request(image: "registry.example.com/app")).status == 0)
    let metricsFile = scratch.path + "/metrics/pullwarden.prom"
    let verify = try Pullwarden.run(
      ["verify", "--records-dir", scratch.path + "/records", "--policy", "AlwaysVerify", "--batch", "--metrics-textfile", metricsFile],
      stdin: "{\"image\":\"registry.example.com/app\"}\n{\"image\":\"registry.example.com/other\"}\n")
    #expect(verify.status == 0, "\(verify.stderr)")
    let text = try metrics()
    #expect(text.contains("pullwarden_verify_decisions_total{must_pull=\"false\",reason=\"nodePodsAccessible\"} 1\n"), "\(text)")
    #expect(text.contains("pullwarden_verify_decisions_total{must_pull=\"true\",reason=\"noRecord\"} 1\n"))
    #expect(text.contains("pullwarden_provide_calls_total{result=\"credentials\",exit_code=\"0\"} 1\n"))
    try expectPromtoolAccepts(metricsFile)
    // With --config, the config's metrics: textfile.
    let configured = try Pullwarden.run(
      ["verify", "--config", config, "--policy", "AlwaysVerify"], stdin: "{\"image\":\"registry.example.com/app\"}")
    #expect(configured.status == 0, "\(configured.stderr)")
    #expect(try metrics().contains("pullwarden_verify_decisions_total{must_pull=\"false\",reason=\"nodePodsAccessible\"} 2\n"))
    let refused = try Pullwarden.run(
      ["verify", "--records-dir", scratch.path + "/records", "--metrics-textfile", scratch.path + "/v.txt"], stdin: "{\"image\":\"a.io/x\"}")
    #expect(refused.status == 64)
    #expect(refused.stderr == "pullwarden: \"\(scratch.path)/v.txt\" must end in .prom (node-exporter's textfile collector reads only those) (--metrics-textfile)\n")
  }

  // MARK: staleIfError

  /// The token service is stopped between two calls: the second is answered from the cache, with a
  /// warning, a cacheDuration inside the credential's remaining life, a log line and a count.
  @Test func aTokenServiceTakenDownIsBridgedByTheCachedCredential() throws {
    let server = try TestTokenServer()
    defer { server.stop() }
    let config = try exchangeConfig(endpoint: server.url + "/s/expires-in=300/token", caFile: server.caFile, staleIfError: true)
    let first = try Pullwarden.run(["provide", "--config", config], stdin: tokenRequest())
    #expect(first.status == 0 && first.stderr.isEmpty, "\(first.stderr)")
    #expect(try jsonObject(first.stdout)["cacheDuration"] as? String == "4m30s")
    // Copied before the server goes: stop() removes its folder, the CA included.
    server.stop()
    let second = try Pullwarden.run(["provide", "--config", config], stdin: tokenRequest())
    #expect(second.status == 0)
    #expect(second.stdout == first.stdout.replacingOccurrences(of: "4m30s", with: try jsonObject(second.stdout)["cacheDuration"] as! String))
    let duration = try seconds(try jsonObject(second.stdout)["cacheDuration"])
    #expect(duration > 0 && duration <= 270)
    #expect(second.stderr.hasPrefix("pullwarden: warning: source \"exchange\": token exchange failed: cannot connect: "), "\(second.stderr)")
    #expect(second.stderr.contains("; serving its cached credential, valid until "))
    #expect(second.stderr.hasSuffix(" (staleIfError)\n"))
    let lines = try logLines()
    #expect(lines.count == 2)
    let source = try #require((lines[1]["sources"] as? [[String: Any]])?.first)
    #expect(source["name"] as? String == "exchange" && source["status"] as? String == "served" && source["reason"] as? String == "served")
    #expect(source["stale"] as? Bool == true)
    #expect((lines[0]["sources"] as? [[String: Any]])?.first?["stale"] == nil)
    let credentials = try #require(lines[1]["credentials"] as? [[String: Any]])
    #expect((credentials.first?["origin"] as? [String: Any])?["serviceAccount"] != nil)
    #expect(credentials.first?["credentialHash"] as? String == (lines[0]["credentials"] as? [[String: Any]])?.first?["credentialHash"] as? String)
    #expect((lines[1]["warnings"] as? [String])?.count == 1)
    let text = try metrics()
    #expect(text.contains("pullwarden_stale_credentials_served_total{source=\"exchange\"} 1\n"), "\(text)")
    #expect(text.contains("pullwarden_token_request_duration_seconds_count{source=\"exchange\"} 2\n"))
    #expect(text.contains("pullwarden_http_request_failures_total{source=\"exchange\"} 1\n"))
    // 300 s of life is less than the 5m cacheDuration: counted on both calls.
    #expect(text.contains("pullwarden_credentials_expiring_within_cache_duration_total{source=\"exchange\"} 2\n"))
    try expectPromtoolAccepts(scratch.path + "/metrics/pullwarden.prom")
    let password = try #require(((try jsonObject(first.stdout)["auth"] as? [String: [String: String]])?.values.first?["password"]))
    try expectNoSecret([token, password])
  }

  @Test func withoutStaleIfErrorATokenServiceTakenDownFailsTheCall() throws {
    let server = try TestTokenServer()
    defer { server.stop() }
    let config = try exchangeConfig(endpoint: server.url + "/s/expires-in=300/token", caFile: server.caFile, staleIfError: false)
    #expect(try Pullwarden.run(["provide", "--config", config], stdin: tokenRequest()).status == 0)
    server.stop()
    let second = try Pullwarden.run(["provide", "--config", config], stdin: tokenRequest())
    #expect(second.status == 3)
    #expect(second.stdout.isEmpty)
    #expect(second.stderr.hasPrefix("pullwarden: token exchange failed: cannot connect: "), "\(second.stderr)")
    let last = try #require(try logLines().last)
    #expect(last["exitCode"] as? Int == 3)
    #expect(last["sources"] as? [[String: String]] == [["name": "exchange", "type": "tokenExchange", "status": "fails", "reason": "error"]])
    #expect(try metrics().contains("pullwarden_provide_calls_total{result=\"failed\",exit_code=\"3\"} 1\n"))
  }

  /// A server error after a good answer is an outage (served stale); a 401 is a refusal (never).
  @Test(arguments: [("status=503", true), ("status=500", true), ("status=401,error=invalid_token", false), ("status=403,error=access_denied", false)])
  func onlyAnOutageServesStale(fault: String, servesStale: Bool) throws {
    let server = try #require(SharedTokenServer.server, "token test server: \(SharedTokenServer.problem ?? "")")
    let path = "/s/id=\(id()),\(fault),after=1,expires-in=300/token"
    let config = try exchangeConfig(endpoint: server.url + path, caFile: server.caFile, staleIfError: true)
    let first = try Pullwarden.run(["provide", "--config", config], stdin: tokenRequest())
    #expect(first.status == 0, "\(first.stderr)")
    let second = try Pullwarden.run(["provide", "--config", config], stdin: tokenRequest())
    if servesStale {
      #expect(second.status == 0)
      #expect(second.stderr.contains("token exchange refused: HTTP 5"), "\(second.stderr)")
      #expect(second.stderr.hasSuffix(" (staleIfError)\n"))
    } else {
      #expect(second.status == 3)
      #expect(second.stdout.isEmpty)
      #expect(second.stderr.hasPrefix("pullwarden: token exchange refused: HTTP 40"), "\(second.stderr)")
      #expect(!second.stderr.contains("staleIfError"))
    }
  }
}

/// `promtool check metrics` accepts the file, lint included.
func expectPromtoolAccepts(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
  let problem = try Promtool.checkMetrics(path)
  #expect(problem == nil, "promtool: \(problem ?? "")", sourceLocation: sourceLocation)
}
