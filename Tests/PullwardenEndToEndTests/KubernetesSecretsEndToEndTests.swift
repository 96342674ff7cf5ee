import FixtureKit
import Foundation
import Testing

/// The kubernetesSecrets source through the real binary against the stand-in API server (HTTPS with a
/// generated CA, real API object shapes, Bearer token checks, Status errors): which Secrets are read,
/// what is recorded, how every API error reads, and that the verifier then decides as the kubelet does.
@Suite struct KubernetesSecretsEndToEndTests {
  static let apiAudience = "https://kubernetes.default.svc"
  static let accountUID = "5f2c7a3e-0b1d-4c59-9a51-2f0e8d6b7c11"

  let scratch: Scratch
  let server: TestTokenServer
  let token: String
  let api: String

  init() throws {
    scratch = try Scratch()
    server = try #require(SharedTokenServer.server, "token test server: \(SharedTokenServer.problem ?? "")")
    token = makeJWT(expiresIn: 3600, audience: Self.apiAudience)
    api = scratch.path + "/api"
  }

  // MARK: The API server's objects

  private func writeAccount(pullSecrets: [String], uid: String = accountUID, namespace: String = "team-a", root: String? = nil) throws {
    let object: [String: Any] = [
      "kind": "ServiceAccount", "apiVersion": "v1",
      "metadata": ["name": "builder", "namespace": namespace, "uid": uid, "resourceVersion": "7", "creationTimestamp": "2025-01-01T00:00:00Z"],
      "imagePullSecrets": pullSecrets.map { ["name": $0] },
    ]
    try writeObject(object, root: root ?? api, path: "namespaces/\(namespace)/serviceaccounts/builder.json")
  }

  private func writeSecret(
    _ name: String, registry: String, username: String, password: String, uid: String? = nil,
    type: String = "kubernetes.io/dockerconfigjson", namespace: String = "team-a", root: String? = nil
  ) throws {
    let config = try JSONSerialization.data(withJSONObject: ["auths": [registry: ["username": username, "password": password]]])
    let key = type == "kubernetes.io/dockercfg" ? ".dockercfg" : ".dockerconfigjson"
    let payload = type == "kubernetes.io/dockercfg"
      ? try JSONSerialization.data(withJSONObject: [registry: ["username": username, "password": password]]) : config
    let object: [String: Any] = [
      "kind": "Secret", "apiVersion": "v1",
      "metadata": ["name": name, "namespace": namespace, "uid": uid ?? "uid-\(name)", "resourceVersion": "3"],
      "type": type, "data": [key: payload.base64EncodedString()],
    ]
    try writeObject(object, root: root ?? api, path: "namespaces/\(namespace)/secrets/\(name).json")
  }

  private func writeObject(_ object: [String: Any], root: String, path: String) throws {
    let url = URL(fileURLWithPath: root).appendingPathComponent(path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: url)
  }

  // MARK: Running provide

  private func serverURL(_ options: String = "") -> String {
    "\(server.url)/s/\(options.isEmpty ? "" : options + ",")api=\(FixtureRunner.percentEncoded(api))"
  }

  private func config(server url: String? = nil, tokenAudience: String = apiAudience, extra: String = "") throws -> String {
    try scratch.write(
      "config.yaml",
      """
      recordsDir: records
      sources:
        - name: pod-secrets
          type: kubernetesSecrets
          matchImages: ["*.example.com"]
          server: \(url ?? serverURL())
          caFile: \(server.caFile)
          tokenAudience: \(tokenAudience)
      \(extra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
      """)
  }

  private func podRequest(_ image: String, token: String? = nil, annotations: String = "{}") -> String {
    request(image: image, extra: ",\"serviceAccountToken\":\"\(token ?? self.token)\",\"serviceAccountAnnotations\":\(annotations)")
  }

  /// Runs provide and checks what must hold for every outcome: stdout only on success, one stderr line
  /// on failure, and never the token or a password on stderr.
  private func provide(
    _ config: String, image: String = "registry-a.example.com/team/app", stdin: String? = nil, secrets: [String] = [],
    environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> Pullwarden.Result {
    let result = try Pullwarden.run(
      ["provide", "--config", config], stdin: stdin ?? podRequest(image), environment: environment, in: scratch.path)
    #expect(!result.timedOut, sourceLocation: sourceLocation)
    for secret in [token] + token.split(separator: ".").map(String.init) + secrets where secret.count >= 4 {
      #expect(!result.stderr.contains(secret), "stderr leaks a secret: \(result.stderr)", sourceLocation: sourceLocation)
    }
    if result.status != 0 {
      #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
      #expect(result.stderr.hasPrefix("pullwarden: ") && result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
    }
    return result
  }

  private func auth(_ result: Pullwarden.Result) throws -> [String: [String: String]] {
    try #require(try jsonObject(result.stdout)["auth"] as? [String: [String: String]])
  }

  private func verify(_ request: String) throws -> (status: Int32, reason: String?) {
    let result = try Pullwarden.run(["verify", "--records-dir", scratch.path + "/records"], stdin: request)
    return (result.status, try jsonObject(result.stdout)["reason"] as? String)
  }

  // MARK: Reading the pod's Secrets

  @Test func serviceAccountWithTwoPullSecretsForDifferentRegistries() throws {
    try writeAccount(pullSecrets: ["registry-a", "registry-b"])
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "alice-password")
    try writeSecret("registry-b", registry: "registry-b.example.com", username: "bob", password: "bob-password")
    let config = try config()
    let secrets = ["alice-password", "bob-password"]

    let first = try provide(config, image: "registry-a.example.com/team/app", secrets: secrets)
    #expect(first.status == 0)
    #expect(first.stderr.isEmpty)
    #expect(try auth(first) == ["registry-a.example.com": ["username": "alice", "password": "alice-password"]])
    #expect(try jsonObject(first.stdout)["cacheKeyType"] as? String == "Image")
    let second = try provide(config, image: "registry-b.example.com/team/app", secrets: secrets)
    #expect(try auth(second) == ["registry-b.example.com": ["username": "bob", "password": "bob-password"]])

    // The record names the Secret (with its credential hash) and the service account, never a password.
    let record = try String(contentsOfFile: try recordFile("registry-a.example.com/team/app"), encoding: .utf8)
    let hash = sha256Hex(#"{"username":"alice","password":"alice-password"}"#)
    #expect(record.contains(#""kubernetesSecrets":[{"uid":"uid-registry-a","namespace":"team-a","name":"registry-a","credentialHash":"\#(hash)"}]"#))
    #expect(record.contains(#""kubernetesServiceAccounts":[{"uid":"\#(Self.accountUID)","namespace":"team-a","name":"builder"}]"#))
    #expect(!record.contains("alice-password"))
  }

  @Test func secretsListedInAnAnnotationAndAFixedList() throws {
    try writeSecret("from-annotation", registry: "registry-a.example.com", username: "anna", password: "anna-pw")
    try writeSecret("shared", registry: "registry-a.example.com/team", username: "shared", password: "shared-pw")
    let scenario = "listed-\(UUID().uuidString.prefix(8).lowercased())"
    let config = try config(
      server: serverURL("id=\(scenario)"), extra: "imagePullSecrets: false\nsecretsAnnotation: pullwarden.dev/pull-secrets\nsecretNames: [shared]")
    let result = try provide(
      config, stdin: podRequest("registry-a.example.com/team/app", annotations: #"{"pullwarden.dev/pull-secrets":" from-annotation , shared"}"#),
      secrets: ["anna-pw", "shared-pw"])
    #expect(result.status == 0)
    #expect(try auth(result) == [
      "registry-a.example.com": ["username": "anna", "password": "anna-pw"],
      "registry-a.example.com/team": ["username": "shared", "password": "shared-pw"],
    ])
    // No ServiceAccount was asked for: only the two Secrets, each once.
    let paths = server.requests(scenario: scenario).compactMap { $0["path"] as? String }.sorted()
    #expect(paths == ["/api/v1/namespaces/team-a/secrets/from-annotation", "/api/v1/namespaces/team-a/secrets/shared"])
  }

  @Test func eachSecretIsFetchedOnceAndAllAtOnce() throws {
    // The server holds each Secret GET until both have arrived: a sequential client would get a 500.
    try writeAccount(pullSecrets: ["registry-a", "registry-b"])
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "alice-password")
    try writeSecret("registry-b", registry: "registry-b.example.com", username: "bob", password: "bob-password")
    let scenario = "concurrent-\(UUID().uuidString.prefix(8).lowercased())"
    let result = try provide(try config(server: serverURL("id=\(scenario),on=secrets,barrier=2")), secrets: ["alice-password"])
    #expect(result.status == 0, "\(result.stderr)")
    let logged = server.requests(scenario: scenario)
    #expect(logged.filter { $0["endpoint"] as? String == "secrets" }.count == 2)
    #expect(logged.filter { $0["endpoint"] as? String == "serviceaccounts" }.count == 1)
  }

  @Test func rotatedSecretReplacesTheRecordedHash() throws {
    try writeAccount(pullSecrets: ["registry-a"])
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "old-password")
    let config = try config()
    #expect(try provide(config, secrets: ["old-password"]).status == 0)
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "new-password")
    let rotated = try provide(config, secrets: ["old-password", "new-password"])
    #expect(try auth(rotated)["registry-a.example.com"]?["password"] == "new-password")
    let record = try String(contentsOfFile: try recordFile("registry-a.example.com/team/app"), encoding: .utf8)
    #expect(record.contains(sha256Hex(#"{"username":"alice","password":"new-password"}"#)))
    #expect(!record.contains(sha256Hex(#"{"username":"alice","password":"old-password"}"#)))
  }

  @Test func aMissingSecretDoesNotHideTheOthers() throws {
    try writeAccount(pullSecrets: ["gone", "registry-a"])
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "alice-password")
    let result = try provide(try config(), secrets: ["alice-password"])
    #expect(result.status == 0)
    #expect(try auth(result) == ["registry-a.example.com": ["username": "alice", "password": "alice-password"]])
    #expect(result.stderr.contains(#"cannot read Secret team-a/gone: HTTP 404 NotFound: secrets "gone" not found"#))
    // An incomplete answer is cached only as long as a miss, so the Secret is used soon after it exists.
    #expect(try jsonObject(result.stdout)["cacheDuration"] as? String == "30s")
  }

  /// A service account naming more Secrets than secretsPerServiceAccount: the first ones (the ones the
  /// kubelet tries first) are read, the rest are never fetched, the limit is named, and the answer is
  /// cached only briefly.
  @Test func theSecretsPerServiceAccountLimitIsNamedAndTheRestNeverFetched() throws {
    let limit = 256
    let names = ["registry-a"] + (1...limit).map { "extra-\($0)" }
    try writeAccount(pullSecrets: names)
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "alice-password")
    for name in names.dropFirst() {
      try writeSecret(name, registry: "\(name).example.com", username: "u", password: "\(name)-password")
    }
    let scenario = "limit-\(UUID().uuidString.prefix(8).lowercased())"
    let result = try provide(try config(server: serverURL("id=\(scenario)")), secrets: ["alice-password"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try auth(result)["registry-a.example.com"]?["password"] == "alice-password")
    #expect(result.stderr.contains("names more than \(limit) Secrets (secretsPerServiceAccount): only the first \(limit) are read"), "\(result.stderr)")
    #expect(try jsonObject(result.stdout)["cacheDuration"] as? String == "30s")
    let fetched = server.requests(scenario: scenario).filter { $0["endpoint"] as? String == "secrets" }.compactMap { $0["path"] as? String }
    #expect(fetched.count == limit)
    #expect(!fetched.contains { $0.hasSuffix("/extra-\(limit)") }, "the Secret past the limit was fetched")
  }

  @Test func otherSecretTypesAreIgnoredWithAWarning() throws {
    try writeAccount(pullSecrets: ["database", "registry-a"])
    try writeSecret("database", registry: "db.example.com", username: "db", password: "db-password", type: "Opaque")
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "alice-password", type: "kubernetes.io/dockercfg")
    let result = try provide(try config(), secrets: ["alice-password", "db-password"])
    #expect(result.status == 0)
    #expect(try auth(result) == ["registry-a.example.com": ["username": "alice", "password": "alice-password"]])
    #expect(result.stderr.contains(#"ignoring Secret team-a/database of service account team-a/builder: its type is "Opaque""#))
  }

  // MARK: Identity and API errors

  @Test func serviceAccountUidMismatchIsAnError() throws {
    try writeAccount(pullSecrets: ["registry-a"], uid: "a-new-uid-after-re-creation")
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "alice-password")
    let result = try provide(try config())
    #expect(result.status == 3)
    #expect(result.stderr.contains("ServiceAccount team-a/builder has uid a-new-uid-after-re-creation on the API server but \(Self.accountUID) in the token"))
  }

  @Test func forbiddenSecretsAreReportedWithVerbAndResource() throws {
    try writeAccount(pullSecrets: ["registry-a"])
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "alice-password")
    let result = try provide(try config(server: serverURL("forbid=secrets:registry-a")))
    #expect(result.status == 3)
    #expect(result.stderr.contains(
      #"cannot read Secret team-a/registry-a: HTTP 403 Forbidden: secrets "registry-a" is forbidden: User "system:serviceaccount:team-a:builder" cannot get resource "secrets" in API group "" in the namespace "team-a""#))
  }

  @Test func oneForbiddenSecretAmongOthersIsAWarning() throws {
    try writeAccount(pullSecrets: ["registry-a", "registry-b"])
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "alice-password")
    try writeSecret("registry-b", registry: "registry-b.example.com", username: "bob", password: "bob-password")
    let result = try provide(try config(server: serverURL("forbid=secrets:registry-b")), secrets: ["alice-password"])
    #expect(result.status == 0)
    #expect(result.stderr.contains("HTTP 403 Forbidden"))
    #expect(try jsonObject(result.stdout)["cacheDuration"] as? String == "30s")
  }

  @Test func aForbiddenServiceAccountIsAnError() throws {
    try writeAccount(pullSecrets: ["registry-a"])
    let result = try provide(try config(server: serverURL("forbid=serviceaccounts:builder")))
    #expect(result.status == 3)
    #expect(result.stderr.contains(#"cannot read ServiceAccount team-a/builder: HTTP 403 Forbidden: serviceaccounts "builder" is forbidden"#))
    #expect(result.stderr.contains("grant the service account \"get\" on its own serviceaccount"))
  }

  @Test func aTokenForAnotherAudienceIsRefusedWith401() throws {
    try writeAccount(pullSecrets: ["registry-a"])
    let otherToken = makeJWT(expiresIn: 3600, audience: "registry.example.com")
    let result = try provide(
      try config(tokenAudience: "registry.example.com"), stdin: podRequest("registry-a.example.com/app", token: otherToken),
      secrets: [otherToken])
    #expect(result.status == 3)
    #expect(result.stderr.contains("cannot read ServiceAccount team-a/builder: HTTP 401 Unauthorized: Unauthorized"))
    #expect(result.stderr.contains("serviceAccountTokenAudience"))
  }

  @Test func aMissingServiceAccountIsAnError() throws {
    let result = try provide(try config())
    #expect(result.status == 3)
    #expect(result.stderr.contains(#"cannot read ServiceAccount team-a/builder: HTTP 404 NotFound: serviceaccounts "builder" not found"#))
  }

  @Test func transientServerErrorsAreRetried() throws {
    try writeAccount(pullSecrets: ["registry-a"])
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "alice-password")
    let scenario = "retry-\(UUID().uuidString.prefix(8).lowercased())"
    let result = try provide(try config(server: serverURL("id=\(scenario),on=secrets,status=503,retry-after=1,fail=1")), secrets: ["alice-password"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(server.requests(scenario: scenario).filter { $0["endpoint"] as? String == "secrets" }.count == 2)
  }

  @Test func persistentServerErrorsFailWithTheStatus() throws {
    try writeAccount(pullSecrets: ["registry-a"])
    let result = try provide(try config(server: serverURL("on=secrets,status=500,error=InternalError"), extra: "attempts: 1"))
    #expect(result.status == 3)
    #expect(result.stderr.contains("reading Secret team-a/registry-a failed: HTTP 500 InternalError: injected fault"))
  }

  @Test func theWrongCertificateAuthorityIsRefused() throws {
    try writeAccount(pullSecrets: ["registry-a"])
    let config = try scratch.write(
      "wrong-ca.yaml",
      """
      sources:
        - {name: pod-secrets, type: kubernetesSecrets, matchImages: ["*.example.com"], server: "\(serverURL())", caFile: "\(server.wrongCAFile)"}
      """)
    let result = try provide(config)
    #expect(result.status == 3)
    #expect(result.stderr.contains("reading ServiceAccount team-a/builder failed"))
    #expect(result.stderr.lowercased().contains("certificate"))
  }

  // MARK: Finding the API server

  @Test func kubeconfigWithInlineCertificateAuthority() throws {
    try writeAccount(pullSecrets: ["registry-a"])
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "alice-password")
    let ca = try Data(contentsOf: URL(fileURLWithPath: server.caFile)).base64EncodedString()
    try scratch.write(
      "kubeconfig",
      """
      apiVersion: v1
      kind: Config
      current-context: other
      clusters:
        - name: test
          cluster: {server: "\(serverURL())", certificate-authority-data: \(ca)}
        - name: elsewhere
          cluster: {server: "https://192.0.2.1:6443", insecure-skip-tls-verify: true}
      contexts:
        - {name: test, context: {cluster: test, user: kubelet}}
        - {name: other, context: {cluster: elsewhere, user: kubelet}}
      users:
        - {name: kubelet, user: {token: not-used-by-pullwarden}}
      """)
    let good = try provide(
      try scratch.write("kubeconfig.yaml", "sources: [{name: pod-secrets, type: kubernetesSecrets, matchImages: ['*.example.com'], kubeconfig: kubeconfig, kubeconfigContext: test}]\n"),
      secrets: ["alice-password"])
    #expect(good.status == 0, "\(good.stderr)")
    #expect(try auth(good)["registry-a.example.com"]?["username"] == "alice")

    // The current context's cluster skips TLS verification: refused, not followed.
    let insecure = try provide(
      try scratch.write("insecure.yaml", "sources: [{name: pod-secrets, type: kubernetesSecrets, matchImages: ['*.example.com'], kubeconfig: kubeconfig}]\n"))
    #expect(insecure.status == 3)
    #expect(insecure.stderr.contains("insecure-skip-tls-verify is set, but Pullwarden always verifies the API server's certificate"))
  }

  @Test func inClusterUsesTheServiceEnvironment() throws {
    let root = server.directory.appendingPathComponent("api").path
    let namespace = "incluster-\(UUID().uuidString.prefix(8).lowercased())"
    try writeAccount(pullSecrets: ["registry-a"], namespace: namespace, root: root)
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "carol", password: "carol-pw", namespace: namespace, root: root)
    let token = makeJWT(expiresIn: 3600, audience: Self.apiAudience, namespace: namespace)
    let port = try #require(URL(string: server.url)?.port)
    let config = try scratch.write(
      "incluster.yaml", "sources: [{name: pod-secrets, type: kubernetesSecrets, matchImages: ['*.example.com'], inCluster: true, caFile: '\(server.caFile)'}]\n")
    let result = try Pullwarden.run(
      ["provide", "--config", config], stdin: podRequest("registry-a.example.com/app", token: token),
      environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(port)])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("carol-pw"))

    let unset = try Pullwarden.run(["provide", "--config", config], stdin: podRequest("registry-a.example.com/app", token: token))
    #expect(unset.status == 3)
    #expect(unset.stderr.contains("inCluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set"))
  }

  // MARK: The verifier, later, for pods presenting their Secrets

  @Test func verifierAllowsPodsWithTheSameSecretOrServiceAccountOnly() throws {
    try writeAccount(pullSecrets: ["registry-a"])
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "alice-password")
    #expect(try provide(try config(), image: "registry-a.example.com/team/app", secrets: ["alice-password"]).status == 0)
    let hash = sha256Hex(#"{"username":"alice","password":"alice-password"}"#)
    let image = "registry-a.example.com/team/app:v1"

    // The same Secret, by its credential hash (as the kubelet computes it) or by its coordinates.
    var decision = try verify(#"{"image":"\#(image)","podSecrets":[{"namespace":"other","name":"copy","uid":"x","credentialHash":"\#(hash)"}]}"#)
    #expect(decision.status == 0 && decision.reason == "secretHashMatched")
    decision = try verify(#"{"image":"\#(image)","podSecrets":[{"namespace":"team-a","name":"registry-a","uid":"uid-registry-a","credentialHash":"rotated"}]}"#)
    #expect(decision.status == 0 && decision.reason == "secretCoordinatesMatched")
    // The Secret's docker config itself, hashed by the verifier.
    let dockerConfig = #"{"auths":{"registry-a.example.com":{"auth":"\#(Data("alice:alice-password".utf8).base64EncodedString())"}}}"#
    decision = try verify(#"{"image":"\#(image)","podSecrets":[{"namespace":"team-b","name":"own","uid":"u","dockerConfigJSON":\#(dockerConfig)}]}"#)
    #expect(decision.status == 0 && decision.reason == "secretHashMatched")
    // The same service account (exact uid, namespace, name).
    decision = try verify(#"{"image":"\#(image)","podServiceAccount":{"namespace":"team-a","name":"builder","uid":"\#(Self.accountUID)"}}"#)
    #expect(decision.status == 0 && decision.reason == "serviceAccountMatched")

    // Anyone else must pull.
    decision = try verify(#"{"image":"\#(image)","podSecrets":[{"namespace":"team-b","name":"other","uid":"u2","credentialHash":"\#(sha256Hex("other"))"}]}"#)
    #expect(decision.status == 1)
    decision = try verify(#"{"image":"\#(image)","podServiceAccount":{"namespace":"team-a","name":"builder","uid":"re-created-uid"}}"#)
    #expect(decision.status == 1)
    decision = try verify(#"{"image":"\#(image)"}"#)
    #expect(decision.status == 1)
  }

  // MARK: staleIfError

  /// A config with the credential cache, the decision log and metrics, for `api` (a dedicated server
  /// a test may stop, or the shared one). Its CA is copied: stop() removes the server's folder.
  private func staleConfig(_ api: TestTokenServer, options: String = "", staleIfError: String? = "10m") throws -> String {
    let caFile = scratch.path + "/api-ca.pem"
    if !FileManager.default.fileExists(atPath: caFile) { try FileManager.default.copyItem(atPath: api.caFile, toPath: caFile) }
    let url = "\(api.url)/s/\(options.isEmpty ? "" : options + ",")api=\(FixtureRunner.percentEncoded(self.api))"
    return try scratch.write(
      "config.yaml",
      """
      recordsDir: records
      credentialCache: {dir: cache}
      log: {file: {path: log/decisions.jsonl}}
      metrics: {textfile: metrics/pullwarden.prom}
      sources:
        - name: pod-secrets
          type: kubernetesSecrets
          matchImages: ["*.example.com"]
          server: \(url)
          caFile: \(caFile)
          tokenAudience: \(Self.apiAudience)
          cacheDuration: 1h
          attempts: 1
      \(staleIfError.map { "    staleIfError: \($0)" } ?? "")
      """)
  }

  private func cacheFiles() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: scratch.path + "/cache")) ?? [] }

  private func writeTwoPullSecrets() throws {
    try writeAccount(pullSecrets: ["registry-a", "registry-b"])
    try writeSecret("registry-a", registry: "registry-a.example.com", username: "alice", password: "alice-password")
    try writeSecret("registry-b", registry: "registry-b.example.com", username: "bob", password: "bob-password")
  }

  /// `9m29s` in seconds.
  private func seconds(_ text: String) -> Int {
    let numbers = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
    return text.contains("m") ? numbers[0] * 60 + (numbers.count > 1 ? numbers[1] : 0) : numbers[0]
  }

  /// The API server is stopped between two calls: the second is answered with the Secrets of the
  /// first, with a warning, a cacheDuration inside the staleIfError window, a log line and a count.
  @Test func anAPIServerTakenDownIsBridgedByTheCachedSecrets() throws {
    let apiServer = try TestTokenServer()
    defer { apiServer.stop() }
    try writeTwoPullSecrets()
    let config = try staleConfig(apiServer)
    let secrets = ["alice-password", "bob-password"]
    let first = try provide(config, secrets: secrets)
    #expect(first.status == 0 && first.stderr.isEmpty, "\(first.stderr)")
    #expect(try jsonObject(first.stdout)["cacheDuration"] as? String == "1h0m0s")
    #expect(cacheFiles().count == 1)
    let record = try String(contentsOfFile: try recordFile("registry-a.example.com/team/app"), encoding: .utf8)

    apiServer.stop()
    let second = try provide(config, secrets: secrets)
    #expect(second.status == 0)
    #expect(try auth(second) == auth(first))
    let duration = seconds(try #require(try jsonObject(second.stdout)["cacheDuration"] as? String))
    #expect(duration > 0 && duration <= 570, "\(second.stdout)")
    #expect(
      second.stderr.hasPrefix("pullwarden: warning: source \"pod-secrets\": reading ServiceAccount team-a/builder failed: cannot connect"),
      "\(second.stderr)")
    #expect(second.stderr.contains("; serving its cached Secrets, fetched at "))
    #expect(second.stderr.contains(", served until "))
    #expect(second.stderr.hasSuffix(" (staleIfError)\n") && second.stderr.filter { $0 == "\n" }.count == 1)
    // The records are written exactly as for a live answer.
    #expect(try String(contentsOfFile: try recordFile("registry-a.example.com/team/app"), encoding: .utf8) == record)

    let log = try String(contentsOfFile: scratch.path + "/log/decisions.jsonl", encoding: .utf8)
    let lines = try log.split(separator: "\n").map { try jsonObject(String($0)) }
    #expect(lines.count == 2)
    #expect((lines[1]["sources"] as? [[String: Any]])?.first?["stale"] as? Bool == true)
    #expect((lines[0]["sources"] as? [[String: Any]])?.first?["stale"] == nil)
    let hashes = lines.map { (($0["credentials"] as? [[String: Any]]) ?? []).compactMap { $0["credentialHash"] as? String } }
    #expect(!hashes[0].isEmpty && hashes[0] == hashes[1])
    let metrics = try String(contentsOfFile: scratch.path + "/metrics/pullwarden.prom", encoding: .utf8)
    #expect(metrics.contains("pullwarden_stale_credentials_served_total{source=\"pod-secrets\"} 1\n"), "\(metrics)")
    for secret in secrets { #expect(!log.contains(secret) && !metrics.contains(secret)) }
  }

  @Test func withoutStaleIfErrorNothingIsKeptAndAnOutageFailsTheCall() throws {
    let apiServer = try TestTokenServer()
    defer { apiServer.stop() }
    try writeTwoPullSecrets()
    let config = try staleConfig(apiServer, staleIfError: nil)
    #expect(try provide(config, secrets: ["alice-password"]).status == 0)
    // The credential cache is on, but nothing about Secrets is written to disk.
    #expect(cacheFiles().isEmpty)
    apiServer.stop()
    let second = try provide(config, secrets: ["alice-password"])
    #expect(second.status == 3)
    #expect(second.stderr.hasPrefix("pullwarden: reading ServiceAccount team-a/builder failed: cannot connect"), "\(second.stderr)")
    #expect(cacheFiles().isEmpty)
  }

  /// A server error after a good answer is an outage (served stale); a refusal never is.
  @Test(arguments: [
    ("status=503", true), ("status=500", true), ("status=429", true), ("status=403,error=Forbidden", false),
    ("status=401,error=Unauthorized", false), ("status=404,error=NotFound", false), ("status=501", false),
  ])
  func onlyAnAPIOutageServesStale(fault: String, servesStale: Bool) throws {
    try writeTwoPullSecrets()
    let scenario = "stale-\(UUID().uuidString.prefix(8).lowercased())"
    let config = try staleConfig(server, options: "id=\(scenario),on=serviceaccounts,after=1,\(fault)")
    let first = try provide(config, secrets: ["alice-password"])
    #expect(first.status == 0, "\(first.stderr)")
    let second = try provide(config, secrets: ["alice-password"])
    if servesStale {
      #expect(second.status == 0)
      #expect(second.stderr.contains("cannot read ServiceAccount team-a/builder: HTTP "), "\(second.stderr)")
      #expect(second.stderr.hasSuffix(" (staleIfError)\n"))
      #expect(try auth(second) == auth(first))
    } else {
      #expect(second.status == 3)
      #expect(second.stderr.hasPrefix("pullwarden: cannot read ServiceAccount team-a/builder: HTTP "), "\(second.stderr)")
      #expect(!second.stderr.contains("staleIfError"))
    }
  }

  /// Every live answer replaces the kept Secrets: one removed from the service account is not served
  /// in a later outage.
  @Test func aSecretRemovedFromTheServiceAccountLeavesTheCache() throws {
    try writeTwoPullSecrets()
    let scenario = "removed-\(UUID().uuidString.prefix(8).lowercased())"
    let config = try staleConfig(server, options: "id=\(scenario),on=serviceaccounts,after=2,status=503")
    let secrets = ["alice-password", "bob-password"]
    #expect(try auth(try provide(config, image: "registry-b.example.com/app", secrets: secrets)).keys.sorted() == ["registry-b.example.com"])
    try writeAccount(pullSecrets: ["registry-a"])
    #expect(try provide(config, image: "registry-a.example.com/app", secrets: secrets).status == 0)
    let stale = try provide(config, image: "registry-b.example.com/app", secrets: secrets)
    #expect(stale.status == 0)
    #expect(stale.stderr.contains("(staleIfError)"), "\(stale.stderr)")
    #expect(try jsonObject(stale.stdout)["auth"] as? [String: Any] == nil || (try auth(stale)).isEmpty)
    let kept = try provide(config, image: "registry-a.example.com/app", secrets: secrets)
    #expect(try auth(kept) == ["registry-a.example.com": ["username": "alice", "password": "alice-password"]])
  }

  private func recordFile(_ image: String) throws -> String {
    scratch.path + "/records/pulled/sha256-" + sha256Hex(image)
  }
}
