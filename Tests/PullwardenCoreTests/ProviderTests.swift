import Synchronization
import Testing

@testable import PullwardenCore

/// Collects warnings for assertions.
final class WarningLog: Sendable {
  private let lines = Mutex<[String]>([])
  var diagnostics: Diagnostics { Diagnostics { [self] line in lines.withLock { $0.append(line) } } }
  var all: [String] { lines.withLock { $0 } }
}

@Suite struct ProviderTests {
  let directory = TemporaryDirectory()

  private func provide(_ config: String, image: String, warnings: WarningLog = WarningLog()) throws -> Provider.Outcome {
    let path = directory.write("config.yaml", config)
    let provider = Provider(config: try PullwardenConfig.load(path: path))
    let request = try CredentialProviderRequest.decode(requestJSON(image: image).bytes)
    return try provider.provide(request, now: Timestamp(secondsSinceEpoch: 1_700_000_000), diagnostics: warnings.diagnostics)
  }

  private func keys(_ outcome: Provider.Outcome) -> [String] { outcome.response.auth.map(\.key) }
  private func users(_ outcome: Provider.Outcome) -> [String] { outcome.response.auth.map(\.credential.username) }

  @Test func returnsOnlyEntriesMatchingTheImageInKubeletOrder() throws {
    directory.write("docker.json", #"{"auths":{"quay.io":{"username":"host"},"quay.io/team":{"username":"team"},"quay.io/other":{"username":"other"},"ghcr.io":{"username":"gh"}}}"#)
    let outcome = try provide(
      "sources: [{name: n, type: dockerConfig, matchImages: ['quay.io', 'ghcr.io'], path: docker.json}]", image: "quay.io/team/app")
    #expect(keys(outcome) == ["quay.io/team", "quay.io"])
    #expect(users(outcome) == ["team", "host"])
    #expect(outcome.response.cacheKeyType == .image)
    #expect(outcome.response.cacheDuration == .minutes(5))
    #expect(outcome.handedOut.allSatisfy { $0.origin.isNodeWide })
  }

  @Test func registryScopeIncludesEveryPathOfTheRegistry() throws {
    directory.write("docker.json", #"{"auths":{"quay.io":{"username":"host"},"quay.io/team":{"username":"team"},"quay.io/other":{"username":"other"},"ghcr.io":{"username":"gh"}}}"#)
    let outcome = try provide(
      "sources: [{name: n, type: dockerConfig, matchImages: ['quay.io', 'ghcr.io'], path: docker.json, cacheKeyType: Registry}]",
      image: "quay.io/team/app")
    #expect(outcome.response.cacheKeyType == .registry)
    #expect(keys(outcome) == ["quay.io/team", "quay.io/other", "quay.io"])
    // Only what the kubelet will try for this image is handed out (and recorded).
    #expect(outcome.handedOut.map(\.key.text) == ["quay.io", "quay.io/team"])
  }

  @Test func globalScopeIncludesEverySourceWithinItsPatterns() throws {
    directory.write("a.json", #"{"auths":{"a.io":{"username":"a"},"elsewhere.io":{"username":"x"}}}"#)
    directory.write("b.json", #"{"auths":{"b.io":{"username":"b"}}}"#)
    let outcome = try provide(
      """
      sources:
        - {name: a, type: dockerConfig, matchImages: ['a.io'], path: a.json, cacheKeyType: Global}
        - {name: b, type: dockerConfig, matchImages: ['b.io'], path: b.json, cacheKeyType: Global, cacheDuration: 1m}
      """, image: "a.io/app")
    #expect(outcome.response.cacheKeyType == .global)
    #expect(keys(outcome) == ["b.io", "a.io"])
    #expect(outcome.response.cacheDuration == .minutes(1))
  }

  @Test func scopeNarrowsWhenAnotherSourceServesTheRegistry() throws {
    directory.write("a.json", #"{"auths":{"a.io":{"username":"a"}}}"#)
    let config = """
      sources:
        - {name: wide, type: dockerConfig, matchImages: ['a.io'], path: a.json, cacheKeyType: Global}
        - {name: team, type: dockerConfig, matchImages: ['a.io/team-b'], path: a.json}
        - {name: other, type: dockerConfig, matchImages: ['c.io'], path: a.json, cacheKeyType: Registry}
      """
    // team serves some a.io images with Image scope, so a Registry answer would hide it.
    #expect(try provide(config, image: "a.io/team-a/app").response.cacheKeyType == .image)
  }

  @Test func registryScopeKeptWhenPeersAllowIt() throws {
    directory.write("a.json", #"{"auths":{"a.io":{"username":"a"}}}"#)
    let config = """
      sources:
        - {name: wide, type: dockerConfig, matchImages: ['a.io'], path: a.json, cacheKeyType: Global}
        - {name: other, type: dockerConfig, matchImages: ['c.io'], path: a.json}
      """
    // Global is impossible (source "other" is Image-scoped) but nothing else serves a.io.
    #expect(try provide(config, image: "a.io/x").response.cacheKeyType == .registry)
  }

  @Test func sameKeyFromTwoSourcesGetsAnAliasTriedSecond() throws {
    directory.write("a.json", #"{"auths":{"registry.io":{"username":"first"}}}"#)
    directory.write("b.json", #"{"auths":{"https://registry.io/v2/":{"username":"second"}, "registry.io/team":{"username":"team"}}}"#)
    let outcome = try provide(
      """
      sources:
        - {name: a, type: dockerConfig, matchImages: ['registry.io'], path: a.json}
        - {name: b, type: dockerConfig, matchImages: ['registry.io'], path: b.json}
      """, image: "registry.io/team/app")
    #expect(keys(outcome) == ["registry.io/team", "registry.io", "registry.io#2"])
    #expect(users(outcome) == ["team", "first", "second"])
    // The kubelet files the alias under the key itself (its URL parse drops the fragment).
    #expect(RegistryKey(normalizing: "registry.io#2")?.text == "registry.io")
  }

  @Test func identicalCredentialsAreReturnedOnceButBothOriginsHandedOut() throws {
    let payload = #"{"auths":{"r.io":{"auth":"dXNlcjpwYXNzd29yZA=="}}}"#
    directory.write("secrets/a.yaml", "kind: Secret\nmetadata: {name: a, namespace: ns, uid: u1}\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '\(payload)'\n")
    directory.write("secrets/b.yaml", "kind: Secret\nmetadata: {name: b, namespace: ns, uid: u2}\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '\(payload)'\n")
    let outcome = try provide("sources: [{name: s, type: secretFiles, matchImages: ['r.io'], directory: secrets}]", image: "r.io/app")
    #expect(keys(outcome) == ["r.io"])
    #expect(outcome.handedOut.compactMap(\.origin.secret?.name) == ["a", "b"])
  }

  /// Every kind of key can be aliased, a ported host too, so no credential is ever left out.
  @Test func portedKeysAreAliasedToo() throws {
    directory.write("a.json", #"{"auths":{"r.io:5000":{"username":"first"}}}"#)
    directory.write("b.json", #"{"auths":{"r.io:5000":{"username":"second"}}}"#)
    let outcome = try provide(
      """
      sources:
        - {name: a, type: dockerConfig, matchImages: ['r.io:5000'], path: a.json}
        - {name: b, type: dockerConfig, matchImages: ['r.io:5000'], path: b.json}
      """, image: "r.io:5000/app")
    #expect(keys(outcome) == ["r.io:5000", "r.io:5000#2"])
    #expect(users(outcome) == ["first", "second"])
    #expect(outcome.handedOut.count == 2)
  }

  /// A miss is never silent: one line names every source and why it gave nothing.
  @Test func aMissSaysWhichSourcesWereConsideredAndWhyNoneServed() throws {
    directory.write("team.json", #"{"auths":{"registry.io/team":{"username":"u","password":"secret-pw"}}}"#)
    let config = """
      sources:
        - {name: elsewhere, type: dockerConfig, matchImages: ['other.io', 'a.io', 'b.io', 'c.io'], path: team.json}
        - {name: team, type: dockerConfig, matchImages: ['registry.io'], path: team.json}
      """
    let warnings = WarningLog()
    let outcome = try provide(config, image: "registry.io/else/app", warnings: warnings)
    #expect(outcome.handedOut.isEmpty)
    #expect(warnings.all.count == 1)
    let line = try #require(warnings.all.first)
    #expect(line.hasPrefix("no credentials for registry.io/else/app: "), "\(line)")
    #expect(line.contains(#"source "elsewhere": matchImages ["other.io", "a.io", "b.io", …] do not match"#), "\(line)")
    #expect(line.contains(#"source "elsewhere": matchImages ["other.io", "a.io", "b.io", …] do not match (closest "other.io": host label 1 "other" does not match "registry")"#), "\(line)")
    #expect(line.contains(#"source "team": matches ("registry.io"), but has no credential under a registry key matching the image"#), "\(line)")
    #expect(!line.contains("secret-pw"))

    let none = WarningLog()
    _ = try provide(config, image: "unknown.io/app", warnings: none)
    #expect(none.all.count == 1)
    #expect(none.all.first?.hasSuffix("the answer is empty, cached for 30s") == true, "\(none.all)")

    let served = WarningLog()
    _ = try provide(config, image: "registry.io/team/app", warnings: served)
    #expect(served.all.isEmpty)
  }

  @Test func missIsCachedBrieflyForTheImageOnly() throws {
    directory.write("a.json", #"{"auths":{"a.io":{"username":"a"}}}"#)
    let config = "missCacheDuration: 15s\nsources: [{name: a, type: dockerConfig, matchImages: ['a.io', 'b.io'], path: a.json, cacheKeyType: Registry}]"
    for image in ["b.io/app", "unmatched.io/app"] {
      let outcome = try provide(config, image: image)
      #expect(outcome.response.auth.isEmpty)
      #expect(outcome.response.cacheKeyType == .image)
      #expect(outcome.response.cacheDuration == .seconds(15))
    }
  }

  @Test func secretFilesReadListsAndMultiDocumentsAndWarnAboutOtherTypes() throws {
    directory.write("secrets/list.yaml", """
      apiVersion: v1
      kind: List
      items:
        - kind: Secret
          metadata: {name: one, namespace: ns, uid: u1}
          type: kubernetes.io/dockercfg
          stringData: {.dockercfg: '{"r.io":{"username":"one","password":"p"}}'}
        - kind: Secret
          metadata: {name: opaque, namespace: ns}
          type: Opaque
      """)
    directory.write("secrets/multi.yml", """
      kind: Secret
      metadata: {name: two, namespace: ns, uid: u2}
      type: kubernetes.io/dockerconfigjson
      stringData: {.dockerconfigjson: '{"auths":{"r.io/team":{"username":"two","password":"p"}}}'}
      ---
      kind: ConfigMap
      metadata: {name: cm}
      ---
      """)
    directory.write("secrets/.hidden.yaml", "not: [valid")
    directory.write("secrets/notes.txt", "ignored")
    let warnings = WarningLog()
    let outcome = try provide(
      "sources: [{name: s, type: secretFiles, matchImages: ['r.io'], directory: secrets}]", image: "r.io/team/app", warnings: warnings)
    #expect(keys(outcome) == ["r.io/team", "r.io"])
    #expect(outcome.handedOut.map { $0.origin.secret! } == [
      SecretCoordinates(namespace: "ns", name: "one", uid: "u1"), SecretCoordinates(namespace: "ns", name: "two", uid: "u2"),
    ])
    #expect(warnings.all.contains { $0.contains("Secret ns/opaque") && $0.contains("\"Opaque\"") })
    #expect(warnings.all.contains { $0.contains("ConfigMap") })
  }

  @Test func unreadableSourcesAreSourceErrors() throws {
    expectError(.source, containing: ["cannot read docker config", "missing.json", "No such file", "source \"n\""]) {
      _ = try provide("sources: [{name: n, type: dockerConfig, matchImages: ['a.io'], path: missing.json}]", image: "a.io/x")
    }
    directory.write("bad.json", "{\"auths\": ")
    expectError(.source, containing: ["invalid JSON", "bad.json"]) {
      _ = try provide("sources: [{name: n, type: dockerConfig, matchImages: ['a.io'], path: bad.json}]", image: "a.io/x")
    }
    expectError(.source, containing: ["cannot read Secret directory", "nodir"]) {
      _ = try provide("sources: [{name: n, type: secretFiles, matchImages: ['a.io'], directory: nodir}]", image: "a.io/x")
    }
  }

  /// Aliases are the key with a fragment, which the kubelet's keyring drops (Go's url.Parse): each
  /// files its credential under the key itself, whatever the key holds (port, glob, path).
  @Test func aliasesAreTheSameKeyToTheKubelet() {
    for key in ["registry.io/team", "r.io:5000", "*.r.io", "registry.io"] {
      let aliases = Array(AuthKeys.aliasKeys(for: key).prefix(3))
      #expect(aliases == [key + "#2", key + "#3", key + "#4"])
      for alias in aliases { #expect(RegistryKey(normalizing: alias)?.text == key, "\(alias)") }
    }
  }
}

/// Which calls the static build hands to pullwarden-dynamic: exactly those that ask a source making
/// HTTP requests. (A Global answer asks every source, but no such source allows Global.)
@Suite struct ProviderPlanTests {
  let directory = TemporaryDirectory()

  private func plan(_ config: String, image: String) throws -> Provider.Plan {
    let provider = Provider(config: try PullwardenConfig.load(path: directory.write("config.yaml", config)))
    return provider.plan(for: try CredentialProviderRequest.decode(requestJSON(image: image).bytes))
  }

  private let mixed = """
    sources:
      - {name: files, type: dockerConfig, matchImages: ['files.io'], path: docker.json}
      - {name: exchange, type: tokenExchange, matchImages: ['token.io'], endpoint: 'https://token.example/x', audience: a, username: u}
    """

  @Test func onlySourcesThatMakeHTTPRequestsNeedThem() throws {
    #expect(try !plan(mixed, image: "files.io/app").makesHTTPRequests)
    #expect(try plan(mixed, image: "token.io/app").makesHTTPRequests)
    #expect(try !plan(mixed, image: "elsewhere.io/app").makesHTTPRequests)
  }

  /// Every type the config accepts, so a new one is listed here too (the protocol has no default).
  @Test func theTypesThatMakeHTTPRequests() {
    let types = PullwardenConfig.sourceTypes
    #expect(Set(types.filter { $0.makesHTTPRequests }.map { $0.typeName }) == ["tokenExchange", "registryToken", "kubernetesSecrets"])
    #expect(Set(types.filter { !$0.makesHTTPRequests }.map { $0.typeName }) == ["dockerConfig", "secretFiles", "passthrough"])
  }
}
