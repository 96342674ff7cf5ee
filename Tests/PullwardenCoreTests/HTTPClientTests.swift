#if canImport(Glibc)
import Glibc
#endif
import FixtureKit
import Testing

@testable import PullwardenCore

/// The libcurl client against the real local HTTPS server: TLS trust, mutual TLS, retries with
/// Retry-After, timeouts within the budget, bounded bodies, connection errors, and concurrency.
/// Time bounds are generous: they tell "waited" from "did not wait" and "gave up" from "hung".
@Suite(.serialized) struct HTTPClientTests {
  let server: TestTokenServer

  init() throws {
    server = try TestTokenServer.shared.get()
  }

  private func client(_ configure: (inout HTTPSettings) -> Void = { _ in }) -> HTTPClient {
    var settings = HTTPSettings(caFile: server.caFile)
    configure(&settings)
    return HTTPClient(settings: settings)
  }

  private func url(_ path: String, base: String? = nil) throws -> HTTPSURL {
    try HTTPSURL(parsing: (base ?? server.ipURL) + path)
  }

  /// A scenario prefix whose fault counters are this test's own.
  private func scenario(_ options: String) -> String { "/s/id=\(randomID()),\(options)" }

  private func randomID() -> String { String(UInt64.random(in: 0...UInt64.max), radix: 36) }

  private func get(_ client: HTTPClient, _ path: String) throws -> Result<HTTPResponse, HTTPFailure> {
    client.send([HTTPRequest(method: .get, url: try url(path))])[0]
  }

  /// A CA or client file someone else could have written is refused before any connection, as
  /// config check refuses it.
  @Test func untrustedTLSFilesAreRefusedBeforeConnecting() throws {
    let directory = TemporaryDirectory()
    let bytes = try FileIO.readFile(server.caFile, limit: 1 << 20)
    let ca = directory.write("ca.pem", String(decoding: bytes, as: UTF8.self))
    #expect(chmod(ca, 0o664) == 0)
    let result = try get(client { $0.caFile = ca }, "/health")
    guard case .failure(let failure) = result else {
      Issue.record("an untrusted CA file was used")
      return
    }
    #expect(failure.what == "caFile: refusing \(ca): writable by group or others (mode 0664, owner \(FileTrust.userName(UInt32(geteuid()))))")
    #expect(failure.attempts == 0)
    #expect(!failure.isOutage)
    for setting in [\HTTPSettings.clientCertificateFile, \HTTPSettings.clientKeyFile] {
      let result = try get(client { $0[keyPath: setting] = ca }, "/health")
      guard case .failure(let failure) = result else {
        Issue.record("an untrusted client file was used")
        continue
      }
      #expect(failure.what.hasSuffix("refusing \(ca): writable by group or others (mode 0664, owner \(FileTrust.userName(UInt32(geteuid()))))"))
    }
  }

  @Test func getsJSONOverVerifiedTLS() throws {
    let response = try get(client(), "/health").get()
    #expect(response.status == 200)
    #expect(response.attempts == 1)
    #expect(response.headers["content-type"] == "application/json")
    #expect(String(decoding: response.body, as: UTF8.self) == #"{"ok": true}"#)
  }

  @Test func honoursRetryAfterSeconds() throws {
    var response: HTTPResponse?
    let took = try elapsed { response = try get(client(), scenario("status=503,retry-after=1,fail=1") + "/health").get() }
    #expect(response?.status == 200)
    #expect(response?.attempts == 2)
    #expect(took >= .milliseconds(900), "retried after \(took), before the 1 s the server asked for")
    #expect(took < .seconds(15))
  }

  @Test func honoursRetryAfterHTTPDate() throws {
    let response = try get(client(), scenario("status=429,retry-after=date+1,fail=1") + "/health").get()
    #expect(response.status == 200)
    #expect(response.attempts == 2)
  }

  @Test func givesUpAfterThreeAttempts() throws {
    let id = randomID()
    let response = try get(client(), "/s/id=\(id),status=500/health").get()
    #expect(response.status == 500)
    #expect(response.attempts == 3)
    #expect(server.requests(scenario: id).count == 3)
    #expect(response.failureSummary(redacting: []) == "HTTP 500 (server_error: injected fault)")
  }

  @Test func doesNotRetryClientErrors() throws {
    let id = randomID()
    let response = try get(client(), "/s/id=\(id),status=400,error=invalid_grant/health").get()
    #expect(response.status == 400)
    #expect(response.attempts == 1)
    #expect(server.requests(scenario: id).count == 1)
  }

  @Test func retryAfterBeyondTheBudgetStopsAtOnce() throws {
    var response: HTTPResponse?
    let took = try elapsed { response = try get(client(), scenario("status=503,retry-after=120") + "/health").get() }
    #expect(response?.attempts == 1)
    #expect(response?.retryStopped == "the server asked to retry after 2m0s, beyond the 30s time budget")
    #expect(took < .seconds(10))
  }

  @Test func slowAnswersTimeOutWithinTheBudget() throws {
    let slow = client {
      $0.attemptTimeout = GoDuration(nanoseconds: 700_000_000)
      $0.totalTimeout = .seconds(2)
    }
    var result: Result<HTTPResponse, HTTPFailure>?
    let took = try elapsed { result = try get(slow, scenario("delay=5") + "/health") }
    guard case .failure(let failure)? = result else { Issue.record("expected a timeout, got \(String(describing: result))"); return }
    #expect(failure.what.hasPrefix("timed out: Operation timed out") || failure.what.hasPrefix("no answer within the 2s time budget"), "\(failure)")
    #expect(failure.attempts >= 2)
    #expect(took < .seconds(5), "the 2 s budget took \(took)")
  }

  @Test(arguments: ["huge", "huge-chunked"])
  func refusesBodiesOverTheLimit(kind: String) throws {
    let result = try get(client(), scenario("body=\(kind)") + "/health")
    guard case .failure(let failure) = result else { Issue.record("accepted an oversized body"); return }
    #expect(failure.what == "response body larger than 1 MiB")
    #expect(failure.attempts == 1)
  }

  @Test func refusesAServerSignedByAnotherCA() throws {
    let id = randomID()
    let result = try get(client { $0.caFile = server.wrongCAFile }, "/s/id=\(id)/health")
    guard case .failure(let failure) = result else { Issue.record("trusted the wrong CA"); return }
    #expect(failure.what.hasPrefix("TLS: server certificate not trusted: SSL certificate problem"), "\(failure)")
    #expect(failure.attempts == 1)
    #expect(server.requests(scenario: id).isEmpty)
  }

  @Test func theSystemStoreDoesNotTrustTheTestCA() throws {
    let result = try get(client { $0.caFile = nil }, "/health")
    guard case .failure(let failure) = result else { Issue.record("trusted a private CA without being told"); return }
    #expect(failure.what.hasPrefix("TLS: server certificate not trusted"))
  }

  @Test func mutualTLSNeedsTheClientCertificate() throws {
    let without = client().send([HTTPRequest(method: .get, url: try url("/health", base: server.mtlsIPURL))])[0]
    guard case .failure(let failure) = without else { Issue.record("connected without a client certificate"); return }
    // Depending on timing the refusal shows as the server's TLS alert or as a dropped connection.
    #expect(
      failure.what.contains("TLS: the server requires a client certificate (set clientCertFile and clientKeyFile)") || failure.what.contains("if it requires a client certificate, set clientCertFile and clientKeyFile"),
      "\(failure)")
    #expect((1...3).contains(failure.attempts))
    let with = client {
      $0.clientCertificateFile = server.clientCertFile
      $0.clientKeyFile = server.clientKeyFile
    }
    let response = try with.send(HTTPRequest(method: .get, url: try url("/health", base: server.mtlsIPURL)))
    #expect(response.status == 200)
  }

  @Test func droppedConnectionsAreRetried() throws {
    let id = randomID()
    let response = try get(client(), "/s/id=\(id),reset=1,fail=2/health").get()
    #expect(response.status == 200)
    #expect(response.attempts == 3)
    #expect(server.requests(scenario: id).count == 3)
  }

  @Test func refusedConnectionsFailAfterThreeAttempts() throws {
    // A port that was just free: bind, read it, close.
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    close(fd)
    let port = UInt16(bigEndian: address.sin_port)
    let result = client().send([HTTPRequest(method: .get, url: try HTTPSURL(parsing: "https://127.0.0.1:\(port)/token"))])[0]
    guard case .failure(let failure) = result else { Issue.record("connected to a closed port"); return }
    #expect(failure.what.hasPrefix("cannot connect: Failed to connect to 127.0.0.1 port \(port)"), "\(failure)")
    #expect(failure.attempts == 3)
    #expect(failure.description.hasSuffix("(GET https://127.0.0.1:\(port)/token, 3 attempts)"))
  }

  @Test func sendsRequestsConcurrently() throws {
    // The server holds each request until all three are waiting, so only concurrent sends succeed.
    let id = randomID()
    let requests = try (0..<3).map { _ in HTTPRequest(method: .get, url: try url("/s/id=\(id),barrier=3/health")) }
    let results = client().send(requests)
    #expect(results.count == 3)
    for result in results { #expect((try? result.get().status) == 200, "\(result)") }
  }

  @Test func postsFormsAndNeverFollowsRedirectsOrHTTP() throws {
    let token = serviceAccountJWT(expires: Timestamp.now().secondsSinceEpoch + 600)
    let request = HTTPRequest.form(
      try url("/token"),
      [("grant_type", TokenExchangeSource.grantType), ("subject_token", token), ("subject_token_type", TokenExchangeSource.subjectTokenType),
       ("audience", "a b&c")])
    let response = try client().send(request)
    #expect(response.status == 200)
    let body = String(decoding: response.body, as: UTF8.self)
    #expect(body.contains(#""access_token": "exchanged:team-a/builder?audience=a+b%26c""#), "\(body)")
  }
}

extension HTTPClientTests {
  @Test func theRunDeadlineCutsTheBudgetShort() throws {
    // Several token sources share the kubelet's minute: a send ends by the run's deadline when that
    // comes before its own budget.
    let client = HTTPClient(settings: HTTPSettings(caFile: server.caFile), runDeadline: .now + .seconds(1))
    var result: Result<HTTPResponse, HTTPFailure>?
    let took = try elapsed { result = client.send([HTTPRequest(method: .get, url: try url(scenario("delay=5") + "/health"))])[0] }
    guard case .failure(let failure)? = result else { Issue.record("expected a failure, got \(String(describing: result))"); return }
    #expect(failure.what.hasPrefix("no answer within the time left for this run (the kubelet stops waiting after 1 minute)"), "\(failure)")
    #expect(took < .seconds(4))
  }
}

extension HTTPClientTests {
  /// A POST without a body hands libcurl a real (empty) buffer, not an invented address, and sends
  /// Content-Length 0.
  @Test func postsAnEmptyBody() throws {
    for body in [nil, [UInt8]()] {
      let response = try client().send(HTTPRequest(method: .post, url: try url("/health"), body: body))
      #expect(response.status == 200)
      #expect(response.attempts == 1)
    }
  }
}
