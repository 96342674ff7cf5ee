import FixtureKit
import Foundation
import Testing

/// Every HTTPS source reaching its server by DNS name, as on a real node: a token service, a registry's
/// token discovery, the API server by name and in-cluster (by name and by IPv6 literal), through a
/// proxy, and a name that does not resolve. Each run resolves names through a hosts file of its own
/// (`PrivateHosts`), so this is glibc's resolver and libcurl's threaded resolver at work, the path that
/// crashed the Steps 1–5 release binary (a static executable that dlopen'd libcurl).
///
/// `scripts/test` runs this suite against the release binary (`PULLWARDEN_BIN`).
@Suite(.enabled(if: PrivateHosts.available, "needs root and unshare -m to give the test names a hosts file"))
struct NameResolutionEndToEndTests {
  let scratch: Scratch
  let server: TestTokenServer
  let token = makeJWT(expiresIn: 3600)

  init() throws {
    scratch = try Scratch()
    server = try #require(SharedTokenServer.server, "token test server: \(SharedTokenServer.problem ?? "")")
  }

  private func named(_ name: String) -> String { "https://\(name):\(server.port)" }

  private func tokenRequest(_ image: String = "registry.example.com/team/app", token: String? = nil) -> String {
    request(image: image, extra: ",\"serviceAccountToken\":\"\(token ?? self.token)\",\"serviceAccountAnnotations\":{}")
  }

  private func exchangeConfig(endpoint: String) throws -> String {
    try scratch.write(
      "exchange.yaml",
      """
      recordsDir: records
      sources:
        - {name: exchange, type: tokenExchange, matchImages: ["registry.example.com"], endpoint: "\(endpoint)",
           audience: registry.example.com, username: oauth2, caFile: "\(server.caFile)"}
      """)
  }

  private func password(_ result: Pullwarden.Result, _ key: String) throws -> String? {
    let auth = try jsonObject(result.stdout)["auth"] as? [String: [String: String]]
    return auth?[key]?["password"]
  }

  @Test func tokenExchangeWithAServiceNamedByDNS() throws {
    let config = try exchangeConfig(endpoint: named("sts.pullwarden.test") + "/token")
    let result = try Pullwarden.run(["provide", "--config", config], stdin: tokenRequest(), in: scratch.path)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try password(result, "registry.example.com")?.hasPrefix("exchanged:team-a/builder?") == true)
    #expect(result.stderr.isEmpty)
  }

  /// The locale of the kubelet's environment changes nothing (Turkish casing would break
  /// case-insensitive header names if anything used the locale).
  @Test(arguments: ["C", "C.UTF-8", "tr_TR.UTF-8", "POSIX"])
  func theLocaleChangesNothing(_ locale: String) throws {
    let config = try exchangeConfig(endpoint: named("sts.pullwarden.test") + "/token")
    let result = try Pullwarden.run(
      ["provide", "--config", config], stdin: tokenRequest(), environment: ["LANG": locale, "LC_ALL": locale], in: scratch.path)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try password(result, "registry.example.com")?.hasPrefix("exchanged:team-a/builder?") == true)
  }

  /// No `registry` or `tokenEndpoint`: the token service is discovered at `https://<image's registry>/v2/`,
  /// so the image's own host name is looked up, and the realm the registry names is looked up next.
  @Test func registryTokenDiscoveredFromTheImagesHostName() throws {
    let registry = "registry.pullwarden.test:\(server.port)"
    let config = try scratch.write(
      "registry.yaml",
      """
      recordsDir: records
      sources:
        - {name: registry, type: registryToken, matchImages: ["\(registry)"], username: robot, caFile: "\(server.caFile)"}
      """)
    let result = try Pullwarden.run(["provide", "--config", config], stdin: tokenRequest("\(registry)/team/app"), in: scratch.path)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try password(result, "\(registry)/team/app")?.hasPrefix("registry:team-a/builder?") == true)
    let discovery = server.requests().filter { $0["endpoint"] as? String == "v2" && ($0["host"] as? String)?.hasPrefix("registry.pullwarden.test") == true }
    #expect(!discovery.isEmpty, "the registry was not asked by name")
  }

  // MARK: The API server

  private func writeAPIObjects(namespace: String) throws {
    // Served from the server's default API folder: in-cluster URLs carry no scenario prefix.
    let root = server.directory.appendingPathComponent("api/namespaces/\(namespace)")
    let config = #"{"auths":{"registry-a.example.com":{"username":"carol","password":"carol-pw"}}}"#
    let objects: [String: [String: Any]] = [
      "serviceaccounts/builder.json": [
        "kind": "ServiceAccount", "apiVersion": "v1",
        "metadata": ["name": "builder", "namespace": namespace, "uid": "5f2c7a3e-0b1d-4c59-9a51-2f0e8d6b7c11"],
        "imagePullSecrets": [["name": "registry-a"]],
      ],
      "secrets/registry-a.json": [
        "kind": "Secret", "apiVersion": "v1", "type": "kubernetes.io/dockerconfigjson",
        "metadata": ["name": "registry-a", "namespace": namespace, "uid": "uid-registry-a"],
        "data": [".dockerconfigjson": Data(config.utf8).base64EncodedString()],
      ],
    ]
    for (path, object) in objects {
      let url = root.appendingPathComponent(path)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try JSONSerialization.data(withJSONObject: object).write(to: url)
    }
  }

  /// A namespace of its own per test, so tests sharing the server's API folder cannot meet.
  private func podToken() throws -> (namespace: String, token: String) {
    let namespace = "names-\(UUID().uuidString.prefix(8).lowercased())"
    try writeAPIObjects(namespace: namespace)
    return (namespace, makeJWT(expiresIn: 3600, audience: "https://kubernetes.default.svc", namespace: namespace))
  }

  @Test func kubernetesSecretsFromTheAPIServerByName() throws {
    let pod = try podToken()
    let config = try scratch.write(
      "secrets.yaml",
      """
      sources:
        - {name: pod-secrets, type: kubernetesSecrets, matchImages: ["*.example.com"],
           server: "\(named("kubernetes.default.svc"))", caFile: "\(server.caFile)"}
      """)
    let result = try Pullwarden.run(
      ["provide", "--config", config], stdin: tokenRequest("registry-a.example.com/app", token: pod.token), in: scratch.path)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try password(result, "registry-a.example.com") == "carol-pw")
  }

  /// `inCluster: true` as the kubelet's environment gives it: the service host as a name, or as an
  /// IPv6 literal (IPv6-only and dual-stack clusters).
  @Test(arguments: ["kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "::1"])
  func inClusterWithTheServiceHostAs(_ host: String) throws {
    let pod = try podToken()
    let config = try scratch.write(
      "incluster.yaml",
      "sources: [{name: pod-secrets, type: kubernetesSecrets, matchImages: ['*.example.com'], inCluster: true, caFile: '\(server.caFile)'}]\n")
    let result = try Pullwarden.run(
      ["provide", "--config", config], stdin: tokenRequest("registry-a.example.com/app", token: pod.token),
      environment: ["KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": String(server.port)], in: scratch.path)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try password(result, "registry-a.example.com") == "carol-pw")
  }

  // MARK: Names that do not resolve, and proxies

  /// One clear line naming the host, exit 3, never a signal (Pullwarden.run fails the test on one).
  @Test func aNameThatDoesNotResolveIsOneClearLine() throws {
    let config = try exchangeConfig(endpoint: "https://sts.pullwarden.invalid/token")
    let result = try Pullwarden.run(["provide", "--config", config], stdin: tokenRequest(), in: scratch.path)
    #expect(result.status == 3)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.hasPrefix("pullwarden: token exchange failed: "), "\(result.stderr)")
    #expect(result.stderr.contains("sts.pullwarden.invalid"), "\(result.stderr)")
    #expect(result.stderr.filter { $0 == "\n" }.count == 1 && result.stderr.hasSuffix("\n"), "\(result.stderr)")
    #expect(!result.stderr.contains(token.split(separator: ".")[1]))
  }

  @Test func inClusterWithAServiceHostThatDoesNotResolve() throws {
    let pod = try podToken()
    let config = try scratch.write(
      "incluster.yaml",
      "sources: [{name: pod-secrets, type: kubernetesSecrets, matchImages: ['*.example.com'], inCluster: true, caFile: '\(server.caFile)'}]\n")
    let result = try Pullwarden.run(
      ["provide", "--config", config], stdin: tokenRequest("registry-a.example.com/app", token: pod.token),
      environment: ["KUBERNETES_SERVICE_HOST": "kubernetes.cluster.invalid", "KUBERNETES_SERVICE_PORT": "443"], in: scratch.path)
    #expect(result.status == 3)
    #expect(result.stderr.contains("kubernetes.cluster.invalid"), "\(result.stderr)")
    #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
  }

  /// `HTTPS_PROXY` by name: the proxy itself is looked up, and the token service is a name only the
  /// proxy can reach, so an answer proves the request went through the proxy. With the service in
  /// `NO_PROXY` the same call goes direct and fails to resolve it.
  @Test func aProxyNamedByDNSReachesAServiceOnlyItCanResolve() throws {
    let endpoint = named(PrivateHosts.proxyOnlyName) + "/token"
    let config = try exchangeConfig(endpoint: endpoint)
    for variable in ["HTTPS_PROXY", "https_proxy"] {
      let proxied = try Pullwarden.run(
        ["provide", "--config", config], stdin: tokenRequest(), environment: [variable: server.proxyURL], in: scratch.path)
      #expect(proxied.status == 0, "\(variable): \(proxied.stderr)")
      #expect(try password(proxied, "registry.example.com")?.hasPrefix("exchanged:") == true)
    }
    let connects = server.requests().compactMap { $0["connect"] as? String }
    #expect(connects.contains("\(PrivateHosts.proxyOnlyName):\(server.port)"))

    let direct = try Pullwarden.run(
      ["provide", "--config", config], stdin: tokenRequest(),
      environment: ["HTTPS_PROXY": server.proxyURL, "NO_PROXY": "behind-proxy.pullwarden.test"], in: scratch.path)
    #expect(direct.status == 3)
    #expect(direct.stderr.contains(PrivateHosts.proxyOnlyName), "\(direct.stderr)")
  }
}

/// The safety net under every end-to-end test: a process that dies by a signal is a failure, never
/// an exit status that happens to match.
@Suite struct SignalDeathTests {
  /// A crash is reported as a signal and noted in the ledger scripts/test checks at the end (here a
  /// ledger of this test's own, so the deliberate crash does not fail the run); an exit status of 11
  /// is not a signal.
  @Test func aSignalDeathIsReportedAndNoted() throws {
    let scratch = try Scratch()
    let ledger = scratch.path + "/ledger"
    let outcome = try ProcessRunner.run(
      URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "kill -SEGV $$"], stdin: Data(), environment: [:], timeout: 30,
      signalLedger: ledger)
    #expect(outcome.signal == SIGSEGV)
    #expect(ProcessRunner.signalName(outcome.signal ?? 0) == "SIGSEGV")
    #expect(try String(contentsOfFile: ledger, encoding: .utf8) == "signal 11 (SIGSEGV): /bin/sh -c kill -SEGV $$\n")
    let exited = try ProcessRunner.run(
      URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "exit 11"], stdin: Data(), environment: [:], timeout: 30,
      signalLedger: ledger)
    #expect(exited.signal == nil && exited.status == 11)
    #expect(try String(contentsOfFile: ledger, encoding: .utf8).split(separator: "\n").count == 1)
  }

  /// Through the private mount namespace too: `exec` keeps the process, so its signal reaches us.
  @Test(.enabled(if: PrivateHosts.available)) func aSignalDeathInsideThePrivateHostsIsReported() throws {
    let outcome = try ProcessRunner.run(
      URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "kill -SEGV $$"], stdin: Data(), environment: [:], timeout: 30,
      resolvingTestNames: true, signalLedger: nil)
    #expect(outcome.signal == SIGSEGV)
  }

  /// Where scripts/test asks for names (CI), a machine that cannot give them fails instead of skipping.
  @Test func privateHostsAreAvailableWhereRequired() {
    #expect(!PrivateHosts.isRequired || PrivateHosts.available, "\(PrivateHosts.requiredVariable)=1 but no private mount namespace")
  }

  /// The release links as README "Install on a node" says: the front end is a static PIE (no loader,
  /// no shared library); its sibling takes glibc, libjansson and libyaml from the node; libcurl is
  /// never linked (the sibling dlopens it for HTTPS sources only); no Swift runtime library is needed.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["PULLWARDEN_RELEASE"] == "1", "scripts/test checks the release binary"))
  func theReleaseBinaryLinksAsDocumented() throws {
    func needed(_ binary: URL) throws -> [String] {
      let outcome = try ProcessRunner.run(
        URL(fileURLWithPath: "/usr/bin/readelf"), arguments: ["--dynamic", binary.path], stdin: Data(),
        environment: ["LANG": "C"], timeout: 60)
      let text = String(decoding: outcome.stdout, as: UTF8.self)
      return text.split(separator: "\n").filter { $0.contains("(NEEDED)") }.compactMap { line -> String? in
        guard let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
        return String(line[line.index(after: open)..<close])
      }
    }
    #expect(try needed(Pullwarden.binary) == [])
    let sibling = try needed(TwoFileRelease.sibling)
    #expect(sibling.contains("libc.so.6"), "\(sibling)")
    #expect(sibling.contains("libjansson.so.4"), "\(sibling)")
    #expect(sibling.contains("libyaml-0.so.2"), "\(sibling)")
    #expect(!sibling.contains { $0.hasPrefix("libcurl") }, "\(sibling)")
    #expect(!sibling.contains { $0.hasPrefix("libswift") || $0.hasPrefix("libFoundation") }, "\(sibling)")
  }
}
