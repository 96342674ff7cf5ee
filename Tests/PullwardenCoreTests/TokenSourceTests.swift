#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PullwardenCore

/// Token source configuration, the checks made on every request, the passthrough source (no network)
/// and the cacheDuration rule. HTTP-backed sources are tested against the real server in
/// HTTPClientTests and the end-to-end tests.
@Suite struct TokenSourceTests {
  let directory = TemporaryDirectory()
  let now = Timestamp(secondsSinceEpoch: 1_700_000_000)

  private func load(_ yaml: String) throws -> PullwardenConfig {
    try PullwardenConfig.parse(yaml.bytes, path: "/etc/pullwarden/config.yaml")
  }

  private func provide(
    _ yaml: String, image: String = "registry.example.com/team/app", token: String?, annotations: [String: String] = [:],
    warnings: WarningLog = WarningLog()
  ) throws -> Provider.Outcome {
    let config = try load(yaml)
    let request = try CredentialProviderRequest(
      apiVersion: .v1, image: image, serviceAccountToken: token, serviceAccountAnnotations: annotations)
    return try Provider(config: config).provide(request, now: now, diagnostics: warnings.diagnostics)
  }

  // MARK: Config

  @Test func readsTokenExchangeSettings() throws {
    let config = try load("""
      sources:
        - name: exchange
          type: tokenExchange
          matchImages: ["registry.example.com"]
          endpoint: https://sts.example.com/token
          audience: registry.example.com
          scope: pull
          clientId: pullwarden
          username: oauth2accesstoken
          tokenAudience: sts.example.com
          requiredAnnotations: [pullwarden.dev/role]
          annotationsToConfig: {audience: pullwarden.dev/audience}
          caFile: ca.pem
          clientCertFile: /etc/pki/client.pem
          clientKeyFile: /etc/pki/client.key
          timeout: 5s
          totalTimeout: 20s
          attempts: 2
      """)
    let source = try #require(config.sources.first as? TokenExchangeSource)
    #expect(source.endpoint.text == "https://sts.example.com/token")
    #expect(source.audience == "registry.example.com")
    #expect(source.scope == "pull")
    #expect(source.clientId == "pullwarden")
    #expect(source.http.caFile == "/etc/pullwarden/ca.pem")
    #expect(source.http.clientCertificateFile == "/etc/pki/client.pem")
    #expect(source.http.attemptTimeout == .seconds(5))
    #expect(source.http.totalTimeout == .seconds(20))
    #expect(source.http.maxAttempts == 2)
    #expect(source.token.annotation(for: "audience") == "pullwarden.dev/audience")
    let attributes = source.kubeletTokenAttributes
    #expect(attributes.serviceAccountTokenAudience == "sts.example.com")
    #expect(attributes.cacheType == "Token" && !attributes.cacheTypeIsRequired)
    #expect(attributes.requireServiceAccount)
    #expect(attributes.requiredAnnotationKeys == ["pullwarden.dev/role"])
    #expect(attributes.optionalAnnotationKeys == ["pullwarden.dev/audience"])
  }

  @Test func readsTopLevelTokenSettings() throws {
    let config = try load("""
      expirySkew: 1m
      credentialCache: {dir: cache, keyBy: serviceAccount, refreshBefore: 2m}
      sources: [{name: p, type: passthrough, matchImages: [a.io], username: u}]
      """)
    #expect(config.expirySkew == .minutes(1))
    #expect(config.credentialCache == CredentialCacheSettings(directory: "/etc/pullwarden/cache", keying: .serviceAccount, refreshBefore: .minutes(2)))
    #expect((config.sources[0] as? PassthroughSource)?.kubeletTokenAttributes.cacheTypeIsRequired == true)
    #expect(try load("sources: [{name: p, type: passthrough, matchImages: [a.io], username: u}]").credentialCache == nil)
  }

  @Test(arguments: [
    ("{name: x, type: tokenExchange, matchImages: [a.io], username: u}", "missing required field \"endpoint\""),
    ("{name: x, type: tokenExchange, matchImages: [a.io], username: u, endpoint: 'http://sts/t'}", "\"endpoint\" must be an https:// URL: tokens and credentials are never sent over plain HTTP"),
    ("{name: x, type: tokenExchange, matchImages: [a.io], endpoint: 'https://sts/t'}", "missing required field \"username\""),
    ("{name: x, type: tokenExchange, matchImages: [a.io], username: u, endpoint: 'https://sts/t', cacheKeyType: Global}", "cacheKeyType Global does not suit a tokenExchange source"),
    ("{name: x, type: tokenExchange, matchImages: [a.io], username: u, endpoint: 'https://sts/t', clientCertFile: c.pem}", "\"clientCertFile\" and \"clientKeyFile\" go together"),
    ("{name: x, type: tokenExchange, matchImages: [a.io], username: u, endpoint: 'https://sts/t', totalTimeout: 2m}", "\"totalTimeout\" must be at most 50s: the kubelet kills a credential provider after 1 minute"),
    ("{name: x, type: tokenExchange, matchImages: [a.io], username: u, endpoint: 'https://sts/t', attempts: 4}", "\"attempts\" must be 1, 2 or 3"),
    ("{name: x, type: tokenExchange, matchImages: [a.io], username: u, endpoint: 'https://sts/t', timeout: 0s}", "\"timeout\" must be positive"),
    ("{name: x, type: tokenExchange, matchImages: [a.io], username: u, endpoint: 'https://sts/t', annotationsToConfig: {endpoint: a/b}}", "setting \"endpoint\" cannot come from an annotation (possible: audience, resource, scope, username)"),
    ("{name: x, type: tokenExchange, matchImages: [a.io], username: u, endpoint: 'https://sts/t', requiredAnnotations: ['-bad']}", "\"-bad\" is not a valid annotation key"),
    ("{name: x, type: tokenExchange, matchImages: [a.io], username: u, endpoint: 'https://sts/t', withoutToken: ignore}", "unknown withoutToken \"ignore\" (expected error or skip)"),
    ("{name: x, type: tokenExchange, matchImages: [a.io], username: u, endpoint: 'https://sts/t', insecure: true}", "unknown key \"insecure\""),
    ("{name: x, type: registryToken, matchImages: [a.io], username: u, cacheKeyType: Registry}", "cacheKeyType Registry does not suit this source: the token is scoped to one repository (use Image)"),
    ("{name: x, type: registryToken, matchImages: [a.io], username: u, registry: 'https://a.io', tokenEndpoint: 'https://a.io/t'}", "set \"registry\" (to discover the token service) or \"tokenEndpoint\", not both"),
    ("{name: x, type: registryToken, matchImages: [a.io], username: u, authentication: digest}", "unknown authentication \"digest\" (expected bearer or basic)"),
    ("{name: x, type: passthrough, matchImages: [a.io], username: u, endpoint: 'https://a'}", "unknown key \"endpoint\""),
  ])
  func refusesBadTokenSourceSettings(source: String, fragment: String) {
    expectError(.config, containing: [fragment, "/etc/pullwarden/config.yaml:"]) { _ = try load("sources: [\(source)]") }
  }

  @Test func registryScopeAllowedForRegistryWideTokens() throws {
    let config = try load("sources: [{name: x, type: registryToken, matchImages: [a.io], username: u, scope: 'registry:catalog:*', cacheKeyType: Registry}]")
    #expect(config.sources[0].common.cacheKeyType == .registry)
  }

  @Test(arguments: [
    ("credentialCache: {dir: ''}", "\"dir\" must not be empty"),
    ("credentialCache: {dir: c, keyBy: pod}", "unknown keyBy \"pod\" (expected token or serviceAccount)"),
    ("credentialCache: {dir: c, ttl: 1m}", "unknown key \"ttl\""),
    ("credentialCache: {}", "missing required field \"dir\""),
    ("expirySkew: -1s", "\"expirySkew\" must not be negative"),
  ])
  func refusesBadTopLevelTokenSettings(line: String, fragment: String) {
    expectError(.config, containing: [fragment]) {
      _ = try load("\(line)\nsources: [{name: p, type: passthrough, matchImages: [a.io], username: u}]")
    }
  }

  @Test func annotationKeysFollowKubernetesRules() {
    for good in ["role", "pullwarden.dev/role", "eks.amazonaws.com/ecr-role-arn", "a.b-c/D_e.f"] {
      #expect(TokenSettings.isAnnotationKey(good), "\(good)")
    }
    for bad in ["", "/role", "a/", "a/b/c", "-role", "Upper.Case/x", String(repeating: "x", count: 64)] {
      #expect(!TokenSettings.isAnnotationKey(bad), "\(bad)")
    }
  }

  // MARK: Passthrough and per-request checks

  let passthrough = "sources: [{name: pass, type: passthrough, matchImages: ['registry.example.com'], username: k8s, cacheDuration: 1h}]"

  @Test func passthroughHandsOutTheTokenBoundedByItsExpiry() throws {
    let token = serviceAccountJWT(expires: now.secondsSinceEpoch + 600)
    let outcome = try provide(passthrough, token: token)
    #expect(outcome.response.auth.map(\.key) == ["registry.example.com"])
    #expect(outcome.response.auth[0].credential == RegistryCredential(username: "k8s", password: token))
    // 600 s left, minus the 30 s skew; below the configured hour.
    #expect(outcome.response.cacheDuration == .seconds(570))
    #expect(outcome.response.cacheKeyType == .image)
    #expect(outcome.handedOut.map(\.origin) == [CredentialOrigin(serviceAccount: ServiceAccountCoordinates(namespace: "team-a", name: "builder", uid: "uid-1"))])
  }

  @Test func cacheDurationIsConfiguredOrLifetimeLessSkewNeverNegative() {
    let configured = GoDuration.minutes(5)
    func duration(_ secondsLeft: Int64, skew: GoDuration = .seconds(30)) -> GoDuration {
      Provider.cacheDuration(configured: configured, expiries: [now.adding(.seconds(secondsLeft))], now: now, skew: skew)
    }
    #expect(duration(3600) == .minutes(5))
    #expect(duration(120) == .seconds(90))
    #expect(duration(20) == .zero)
    #expect(duration(-100) == .zero)
    #expect(duration(120, skew: .zero) == .seconds(120))
    #expect(Provider.cacheDuration(configured: configured, expiries: [], now: now, skew: .seconds(30)) == configured)
    // Fractions of a second are dropped, so the answer never outlives the bound.
    #expect(Provider.cacheDuration(configured: configured, expiries: [now.adding(GoDuration(nanoseconds: 90_999_999_999))], now: now, skew: .seconds(30)) == .seconds(60))
  }

  @Test func requestWithoutTokenIsAnErrorUnlessTheSourceSkipsIt() throws {
    expectError(.source, containing: ["no serviceAccountToken in the request", "tokenAttributes", "withoutToken: skip", "(source \"pass\")"]) {
      _ = try provide(passthrough, token: nil)
    }
    directory.write("docker.json", #"{"auths":{"registry.example.com":{"username":"node","password":"pw"}}}"#)
    let config = """
      sources:
        - {name: pass, type: passthrough, matchImages: ['registry.example.com'], username: k8s, withoutToken: skip}
        - {name: node, type: dockerConfig, matchImages: ['registry.example.com'], path: \(directory.path)/docker.json}
      """
    let outcome = try provide(config, token: nil)
    #expect(outcome.response.auth.map(\.credential.username) == ["node"])
    #expect(outcome.handedOut.allSatisfy { $0.origin.isNodeWide })
  }

  @Test func missingRequiredAnnotationIsAClearError() {
    let config = "sources: [{name: pass, type: passthrough, matchImages: ['registry.example.com'], username: k8s, requiredAnnotations: [pullwarden.dev/role]}]"
    expectError(.source, containing: ["service account team-a/builder has no annotation \"pullwarden.dev/role\"", "requiredServiceAccountAnnotationKeys"]) {
      _ = try provide(config, token: serviceAccountJWT(expires: now.secondsSinceEpoch + 600))
    }
  }

  @Test func annotationsSelectSettings() throws {
    let config = "sources: [{name: pass, type: passthrough, matchImages: ['registry.example.com'], username: k8s, annotationsToConfig: {username: pullwarden.dev/user}}]"
    let token = serviceAccountJWT(expires: now.secondsSinceEpoch + 600)
    #expect(try provide(config, token: token, annotations: ["pullwarden.dev/user": "robot$team"]).response.auth[0].credential.username == "robot$team")
    #expect(try provide(config, token: token).response.auth[0].credential.username == "k8s")
    expectError(.request, containing: ["annotation \"pullwarden.dev/user\" (for username) must be non-empty printable text"]) {
      _ = try provide(config, token: token, annotations: ["pullwarden.dev/user": ""])
    }
  }

  @Test func tokenAudienceMustMatch() throws {
    let config = "sources: [{name: pass, type: passthrough, matchImages: ['registry.example.com'], username: k8s, tokenAudience: registry.example.com}]"
    _ = try provide(config, token: serviceAccountJWT(expires: now.secondsSinceEpoch + 600))
    expectError(.request, containing: ["serviceAccountToken audience is \"api\", expected \"registry.example.com\"", "serviceAccountTokenAudience"]) {
      _ = try provide(config, token: serviceAccountJWT(expires: now.secondsSinceEpoch + 600, audience: .array([.string("api")])))
    }
  }

  @Test func expiredTokenFailsTheRequestWithoutLeakingIt() {
    let token = serviceAccountJWT(expires: now.secondsSinceEpoch - 1)
    do {
      _ = try provide(passthrough, token: token)
      Issue.record("expected an error")
    } catch let error as PullwardenError {
      #expect(error.kind == .request)
      #expect(error.description.contains("serviceAccountToken expired at"))
      #expect(!error.description.contains(token))
    } catch {
      Issue.record("unexpected \(error)")
    }
  }

  @Test func tokenSourcesOnlyAnswerForTheRequestedRegistry() throws {
    // Registry scope through a peer: the token credential is keyed by the image's registry host.
    let config = "sources: [{name: pass, type: passthrough, matchImages: ['*.example.com'], username: k8s, cacheKeyType: Registry}]"
    let outcome = try provide(config, image: "other.example.com/x", token: serviceAccountJWT(expires: now.secondsSinceEpoch + 600))
    #expect(outcome.response.cacheKeyType == .registry)
    #expect(outcome.response.auth.map(\.key) == ["other.example.com"])
  }
}
