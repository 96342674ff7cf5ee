import FixtureKit
import Foundation
import Testing

/// Token sources through the real binary and the real local HTTPS token service: what reaches stdout,
/// stderr and the exit status for every injected fault, that no token leaks, and that every failure
/// comes well inside the kubelet's one-minute deadline.
@Suite struct TokenSourceEndToEndTests {
  let scratch: Scratch
  let server: TestTokenServer
  let token: String

  init() throws {
    scratch = try Scratch()
    server = try #require(SharedTokenServer.server, "token test server: \(SharedTokenServer.problem ?? "")")
    token = makeJWT(expiresIn: 3600)
  }

  /// A unique scenario id, so server-side fault counters are this test's own.
  private func id() -> String { UUID().uuidString.lowercased().prefix(12).description }

  private func exchangeConfig(_ path: String, extra: String = "", base: String? = nil) throws -> String {
    try scratch.write(
      "config.yaml",
      """
      sources:
        - name: exchange
          type: tokenExchange
          matchImages: ["registry.example.com"]
          endpoint: \(base ?? server.url)\(path)
          audience: registry.example.com
          annotationsToConfig: {scope: pullwarden.dev/scope}
          username: oauth2
          caFile: \(server.caFile)
      \(extra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
      """)
  }

  private func tokenRequest(_ token: String? = nil, annotations: String = "{}") -> String {
    request(image: "registry.example.com/team/app", extra: ",\"serviceAccountToken\":\"\(token ?? self.token)\",\"serviceAccountAnnotations\":\(annotations)")
  }

  /// Runs provide and checks what must hold for every outcome: one line on exactly one stream, no
  /// token on stderr, and an answer inside the kubelet's one-minute deadline (the run is killed at
  /// `deadline` seconds and then counts as timed out; nothing is timed or compared).
  private func provide(
    _ config: String, stdin: String? = nil, environment: [String: String] = [:], deadline: TimeInterval = 60,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> Pullwarden.Result {
    let result = try Pullwarden.run(
      ["provide", "--config", config], stdin: stdin ?? tokenRequest(), environment: environment, timeout: deadline)
    #expect(!result.timedOut, "no answer within \(Int(deadline)) s", sourceLocation: sourceLocation)
    for part in [token] + token.split(separator: ".").map(String.init) where part.count >= 8 {
      #expect(!result.stderr.contains(part), "stderr leaks the token: \(result.stderr)", sourceLocation: sourceLocation)
    }
    if result.status == 0 {
      #expect(result.stderr.isEmpty, "\(result.stderr)", sourceLocation: sourceLocation)
    } else {
      #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
      #expect(result.stderr.hasPrefix("pullwarden: ") && result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
    }
    return result
  }

  // MARK: tokenExchange

  @Test func exchangesTheTokenForARegistryCredential() throws {
    let scenario = id()
    let result = try provide(try exchangeConfig("/s/id=\(scenario)/token"), stdin: tokenRequest(annotations: #"{"pullwarden.dev/scope":"pull push"}"#))
    #expect(result.status == 0)
    let response = try jsonObject(result.stdout)
    #expect(response["cacheKeyType"] as? String == "Image")
    #expect(response["cacheDuration"] as? String == "5m0s")
    let auth = try #require(response["auth"] as? [String: [String: String]])
    #expect(auth == ["registry.example.com": ["username": "oauth2", "password": "exchanged:team-a/builder?audience=registry.example.com&scope=pull+push"]])
    let logged = server.requests(scenario: scenario)
    #expect(logged.count == 1)
    let fields = try #require(logged.first?["fields"] as? [String: String])
    #expect(fields["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange")
    #expect(fields["subject_token_type"] == "urn:ietf:params:oauth:token-type:jwt")
    #expect(fields["subject_token"] == "sha256:" + sha256Hex(token))
  }

  @Test func expiresInBoundsTheCacheDuration() throws {
    let result = try provide(try exchangeConfig("/s/expires-in=120/token"))
    #expect(try jsonObject(result.stdout)["cacheDuration"] as? String == "1m30s")
  }

  @Test func honoursRetryAfterAndSucceeds() throws {
    let scenario = id()
    let started = Date()
    let result = try provide(try exchangeConfig("/s/id=\(scenario),status=503,retry-after=1,fail=1/token"))
    #expect(result.status == 0)
    #expect(Date().timeIntervalSince(started) >= 0.9)
    #expect(server.requests(scenario: scenario).count == 2)
  }

  @Test(arguments: [
    ("status=500", "token exchange refused: HTTP 500 (server_error: injected fault)", " after 3 attempts"),
    ("status=503,retry-after=300", "token exchange refused: HTTP 503 (server_error: injected fault); not retried: the server asked to retry after 5m0s, beyond the 30s time budget", ""),
    ("status=400,error=invalid_grant", "token exchange refused: HTTP 400 (invalid_grant: injected fault)", ""),
    ("body=echo-token", "token exchange refused: HTTP 400 (invalid_request: cannot use token [redacted])", ""),
    ("body=html", "token exchange refused: HTTP 502", " after 3 attempts"),
    ("body=malformed", "token exchange: invalid JSON: end of file expected", ""),
    ("body=no-token", "token exchange: the answer has no \"access_token\"", ""),
    ("body=huge", "token exchange failed: response body larger than 1 MiB", ""),
    ("body=huge-chunked", "token exchange failed: response body larger than 1 MiB", ""),
    ("expect-audience=other", "token exchange refused: HTTP 400 (invalid_target: audience not allowed)", ""),
  ])
  func serverFaultsFailWithAClearLine(options: String, what: String, attempts: String) throws {
    let scenario = id()
    let path = "/s/id=\(scenario),\(options)/token"
    let result = try provide(try exchangeConfig(path))
    #expect(result.status == 3)
    if options == "body=malformed" {
      // jansson's wording after "invalid JSON:" is its own; the rest is ours.
      #expect(result.stderr.hasPrefix("pullwarden: token exchange: invalid JSON: "), "\(result.stderr)")
      #expect(result.stderr.hasSuffix("(POST \(server.url)\(path), source \"exchange\")\n"), "\(result.stderr)")
    } else {
      #expect(result.stderr == "pullwarden: \(what) (POST \(server.url)\(path)\(attempts), source \"exchange\")\n")
    }
  }

  /// A server that would answer after 60 s: the 3 s budget ends the run, which must therefore answer
  /// long before the 30 s at which the test would kill it (a deadline, not a measured time).
  @Test func slowServerFailsWithinTheBudget() throws {
    let result = try provide(try exchangeConfig("/s/delay=60/token", extra: "timeout: 1s\ntotalTimeout: 3s"), deadline: 30)
    #expect(result.status == 3)
    #expect(result.stderr.hasPrefix("pullwarden: token exchange failed: "))
    #expect(result.stderr.contains("timed out") || result.stderr.contains("no answer within the 3s time budget"), "\(result.stderr)")
  }

  @Test func untrustedServerCertificateIsRefused() throws {
    let scenario = id()
    let config = try exchangeConfig("/s/id=\(scenario)/token")
    try scratch.write("config.yaml", try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: server.caFile, with: server.wrongCAFile))
    let result = try provide(config)
    #expect(result.status == 3)
    #expect(result.stderr == "pullwarden: token exchange failed: TLS: server certificate not trusted: SSL certificate problem: unable to get local issuer certificate (POST \(server.url)/s/id=\(scenario)/token, source \"exchange\")\n")
    #expect(server.requests(scenario: scenario).isEmpty)
  }

  @Test func mutualTLSWithAndWithoutTheClientCertificate() throws {
    let with = try provide(try exchangeConfig("/token", extra: "clientCertFile: \(server.clientCertFile)\nclientKeyFile: \(server.clientKeyFile)", base: server.mtlsURL))
    #expect(with.status == 0)
    let without = try provide(try exchangeConfig("/token", base: server.mtlsURL))
    #expect(without.status == 3)
    #expect(without.stderr.hasPrefix("pullwarden: token exchange failed: "))
    #expect(without.stderr.contains("TLS: the server requires a client certificate (set clientCertFile and clientKeyFile)") || without.stderr.contains("if it requires a client certificate, set clientCertFile and clientKeyFile"), "\(without.stderr)")
  }

  @Test func expiredServiceAccountTokenNeverReachesTheServer() throws {
    let scenario = id()
    let expired = makeJWT(expiresIn: -60)
    let result = try Pullwarden.run(["provide", "--config", try exchangeConfig("/s/id=\(scenario)/token")], stdin: tokenRequest(expired))
    #expect(result.status == 1)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.hasPrefix("pullwarden: serviceAccountToken expired at "))
    #expect(result.stderr.hasSuffix("(stdin, at serviceAccountToken)\n"))
    #expect(!result.stderr.contains(expired.split(separator: ".")[1]))
    #expect(server.requests(scenario: scenario).isEmpty)
  }

  @Test func notAJWTIsARequestError() throws {
    let result = try Pullwarden.run(["provide", "--config", try exchangeConfig("/token")], stdin: tokenRequest("opaque-secret-value"))
    #expect(result.status == 1)
    #expect(result.stderr == "pullwarden: serviceAccountToken is not a JWT (expected three base64url parts separated by dots) (stdin, at serviceAccountToken)\n")
  }

  @Test func requestWithoutATokenNamesTheKubeletSetting() throws {
    let result = try provide(try exchangeConfig("/token"), stdin: request(image: "registry.example.com/team/app"))
    #expect(result.status == 3)
    #expect(result.stderr.hasPrefix("pullwarden: no serviceAccountToken in the request: give this provider tokenAttributes"))
  }

  @Test func proxiesFromTheEnvironmentAndNoProxy() throws {
    let config = try exchangeConfig("/token")
    let before = server.requests().filter { $0["server"] as? String == "proxy" }.count
    let proxied = try provide(config, environment: ["https_proxy": server.proxyURL])
    #expect(proxied.status == 0)
    let connects = server.requests().filter { $0["server"] as? String == "proxy" }.compactMap { $0["connect"] as? String }
    #expect(connects.count == before + 1)
    #expect(connects.last == server.url.replacingOccurrences(of: "https://", with: ""))
    let bypassed = try provide(config, environment: ["HTTPS_PROXY": server.proxyURL, "NO_PROXY": URL(string: server.url)?.host ?? ""])
    #expect(bypassed.status == 0)
    #expect(server.requests().filter { $0["server"] as? String == "proxy" }.count == before + 1)
  }

  @Test func libcurlIsLoadedOnlyWhenASourceNeedsHTTP() throws {
    try scratch.write("docker.json", #"{"auths":{"registry.example.com":{"username":"u","password":"p"}}}"#)
    let files = try scratch.write("files.yaml", "sources: [{name: n, type: dockerConfig, matchImages: [registry.example.com], path: docker.json}]\n")
    let debug = ["LD_DEBUG": "libs"]
    let fileOnly = try Pullwarden.run(["provide", "--config", files], stdin: tokenRequest(), environment: debug)
    #expect(fileOnly.status == 0)
    #expect(fileOnly.stderr.contains("calling init"), "LD_DEBUG gave no loader trace; is the binary static?")
    #expect(!fileOnly.stderr.contains("libcurl"))
    let exchange = try Pullwarden.run(["provide", "--config", try exchangeConfig("/token")], stdin: tokenRequest(), environment: debug)
    #expect(exchange.status == 0)
    #expect(exchange.stderr.contains("libcurl.so.4"))
  }

  @Test func credentialCacheSavesTheSecondExchange() throws {
    let scenario = id()
    let config = try exchangeConfig("/s/id=\(scenario)/token")
    let text = try String(contentsOfFile: config, encoding: .utf8)
    try scratch.write("config.yaml", "credentialCache: {dir: cache}\n" + text)
    let first = try provide(config)
    let second = try provide(config)
    #expect(first.status == 0 && second.status == 0)
    #expect(first.stdout == second.stdout)
    #expect(server.requests(scenario: scenario).count == 1)
    let cache = scratch.path + "/cache"
    let entries = try FileManager.default.contentsOfDirectory(atPath: cache)
    #expect(entries.count == 1 && entries[0].hasSuffix(".json") && entries[0].count == 69)
    #expect(try FileManager.default.attributesOfItem(atPath: cache)[.posixPermissions] as? Int == 0o700)
    #expect(try FileManager.default.attributesOfItem(atPath: cache + "/" + entries[0])[.posixPermissions] as? Int == 0o600)
    // A different token is a different entry.
    _ = try provide(config, stdin: tokenRequest(makeJWT(expiresIn: 1800)))
    #expect(server.requests(scenario: scenario).count == 2)
  }

  @Test func configCheckPrintsTheKubeletTokenAttributes() throws {
    let config = try scratch.write(
      "check.yaml",
      """
      credentialCache: {dir: cache}
      sources:
        - {name: pass, type: passthrough, matchImages: [a.io], username: k8s, tokenAudience: a.io}
        - name: exchange
          type: tokenExchange
          matchImages: [b.io]
          endpoint: https://sts.example.com/token
          username: u
          requiredAnnotations: [pullwarden.dev/role]
          annotationsToConfig: {audience: pullwarden.dev/audience, scope: pullwarden.dev/role}
          withoutToken: skip
      """)
    let result = try Pullwarden.run(["config", "check", "--config", config])
    #expect(result.status == 0)
    #expect(result.stdout.contains("  kubelet tokenAttributes: serviceAccountTokenAudience a.io, cacheType Token (required), requireServiceAccount true\n"))
    #expect(result.stdout.contains(
      "  kubelet tokenAttributes: serviceAccountTokenAudience <the audience your token service expects>, cacheType Token (or ServiceAccount if the credential depends only on the service account), requireServiceAccount false, optionalServiceAccountAnnotationKeys [pullwarden.dev/role, pullwarden.dev/audience]\n"))
    #expect(result.stdout.contains("credential cache: \(scratch.path)/cache, keyed by token, refreshed 1m0s before expiry"))
  }

  // MARK: registryToken and passthrough

  private func registryConfig(_ settings: String) throws -> String {
    try scratch.write(
      "registry.yaml",
      """
      sources:
        - name: registry
          type: registryToken
          matchImages: ["registry.example.com"]
          username: robot
          caFile: \(server.caFile)
      \(settings.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
      """)
  }

  @Test func registryTokenDiscoversTheTokenServiceFromTheChallenge() throws {
    let scenario = id()
    let result = try provide(try registryConfig("registry: \(server.url)/s/id=\(scenario)"))
    #expect(result.status == 0)
    let auth = try #require(try jsonObject(result.stdout)["auth"] as? [String: [String: String]])
    #expect(auth == ["registry.example.com/team/app": ["username": "robot", "password": "registry:team-a/builder?auth=bearer&scope=repository%3Ateam%2Fapp%3Apull&service=registry.test"]])
    #expect(server.requests(scenario: scenario).map { $0["endpoint"] as? String } == ["v2", "registry-token"])
  }

  @Test func registryTokenWithConfiguredEndpointAndBasicAuthentication() throws {
    let result = try provide(try registryConfig("tokenEndpoint: \(server.url)/s/token-field=access_token,expires-in=100/registry-token\nservice: registry.example.com\nauthentication: basic"))
    #expect(result.status == 0)
    let response = try jsonObject(result.stdout)
    let auth = try #require(response["auth"] as? [String: [String: String]])
    #expect(auth["registry.example.com/team/app"]?["password"] == "registry:team-a/builder?auth=basic%3Arobot&scope=repository%3Ateam%2Fapp%3Apull&service=registry.example.com")
    // 100 s from issued_at (at most a second before now), minus the 30 s skew.
    let duration = try #require(response["cacheDuration"] as? String)
    #expect(duration == "1m10s" || duration == "1m9s" || duration == "1m8s", "\(duration)")
  }

  @Test(arguments: [
    ("challenge=http", "token service discovery: the registry's token realm is not usable (must be an https:// URL: tokens and credentials are never sent over plain HTTP); the service-account token is only sent over HTTPS"),
    ("challenge=basic", "token service discovery: the registry answered HTTP 401 with only basic, so it has no token service to discover; set tokenEndpoint"),
    ("challenge=ok", "token service discovery: the registry answered HTTP 200 with no Bearer challenge, so it has no token service to discover; set tokenEndpoint"),
  ])
  func registryWithoutAUsableChallengeIsRefused(options: String, what: String) throws {
    let result = try provide(try registryConfig("registry: \(server.url)/s/\(options)"))
    #expect(result.status == 3)
    #expect(result.stderr == "pullwarden: \(what) (GET \(server.url)/s/\(options)/v2/, source \"registry\")\n")
  }

  /// The token expires in a year, so the configured cacheDuration always wins and the answer does not
  /// depend on how long the run took (a one-hour token once gave "59m26s" under load). How a token's
  /// lifetime caps cacheDuration is tested with a fixed clock in TokenSourceTests
  /// (passthroughHandsOutTheTokenBoundedByItsExpiry, cacheDurationIsConfiguredOrLifetimeLessSkewNeverNegative).
  @Test func passthroughReturnsTheTokenOnStdoutOnly() throws {
    let longLived = makeJWT(expiresIn: 365 * 24 * 3600)
    let config = try scratch.write("pass.yaml", "sources: [{name: pass, type: passthrough, matchImages: [registry.example.com], username: k8s, cacheDuration: 2h}]\n")
    let result = try provide(config, stdin: tokenRequest(longLived))
    #expect(result.status == 0)
    #expect(!result.stderr.contains(longLived))
    let response = try jsonObject(result.stdout)
    #expect((response["auth"] as? [String: [String: String]])?["registry.example.com"]?["password"] == longLived)
    #expect(response["cacheDuration"] as? String == "2h0m0s")
  }
}

/// An unsigned service-account JWT for team-a/builder that expires `expiresIn` seconds from now.
func makeJWT(
  expiresIn: Int, audience: String = "registry.example.com", namespace: String = "team-a", serviceAccount: String = "builder",
  uid: String = "5f2c7a3e-0b1d-4c59-9a51-2f0e8d6b7c11"
) -> String {
  func segment(_ object: [String: Any]) -> String {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
      .replacingOccurrences(of: "=", with: "")
  }
  let claims: [String: Any] = [
    "aud": [audience], "exp": Int(Date().timeIntervalSince1970) + expiresIn,
    "iat": Int(Date().timeIntervalSince1970), "iss": "https://kubernetes.default.svc",
    "sub": "system:serviceaccount:\(namespace):\(serviceAccount)",
    "kubernetes.io": ["namespace": namespace, "serviceaccount": ["name": serviceAccount, "uid": uid]],
    "jti": UUID().uuidString,
  ]
  return segment(["alg": "RS256", "kid": "test"]) + "." + segment(claims) + ".c2lnbmF0dXJlLW5vdC1jaGVja2Vk"
}

extension TokenSourceEndToEndTests {
  /// The kubelet passes its environment on: SSLKEYLOGFILE (set for debugging on a node) must not make
  /// a root plugin write TLS session secrets, nor OPENSSL_CONF load another OpenSSL configuration.
  @Test func tlsKeyLogAndOpenSSLConfigFromTheEnvironmentAreIgnored() throws {
    let keyLog = scratch.path + "/tls-keys.log"
    let openSSLConfig = try scratch.write("openssl.cnf", "this is not an OpenSSL config [\n")
    let result = try provide(
      try exchangeConfig("/s/id=\(id())/token"), environment: ["SSLKEYLOGFILE": keyLog, "OPENSSL_CONF": openSSLConfig])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: keyLog), "TLS secrets were written to SSLKEYLOGFILE")
  }
}
