import Testing

@testable import PullwardenCore

/// `staleIfError` for kubernetesSecrets: its settings, the cache entry's round trip, and that only an
/// outage is bridged.
@Suite struct StaleSecretsTests {
  let directory = TemporaryDirectory()
  let now = Timestamp(secondsSinceEpoch: 1_700_000_000)
  let warnings = WarningLog()
  static let source = "{name: k, type: kubernetesSecrets, matchImages: ['*.example.com'], server: 'https://10.0.0.1:6443'"

  private func load(_ text: String) throws -> PullwardenConfig {
    try PullwardenConfig.parse(text.bytes, path: directory.path + "/config.yaml")
  }

  @Test func readsADuration() throws {
    let config = try load("credentialCache: {dir: c}\nsources: [\(Self.source), staleIfError: 15m}]\n")
    #expect((config.sources[0] as? KubernetesSecretsSource)?.staleIfError == .minutes(15))
    let off = try load("sources: [\(Self.source)}]\n")
    #expect((off.sources[0] as? KubernetesSecretsSource)?.staleIfError == nil)
  }

  @Test(arguments: [
    (
      "credentialCache: {dir: c}\nsources: [\(source), staleIfError: true}]",
      "\"staleIfError\" takes a duration here, such as \"15m\": Secrets carry no expiry, so it bounds how old a served copy may be"
    ),
    ("sources: [\(source), staleIfError: false}]", "\"staleIfError\" takes a duration here"),
    (
      "sources: [\(source), staleIfError: 15m}]",
      "\"staleIfError\" serves credentials from the credential cache, which is off: set credentialCache too"
    ),
    ("credentialCache: {dir: c}\nsources: [\(source), staleIfError: 0s}]", "\"staleIfError\" must be positive"),
    ("credentialCache: {dir: c}\nsources: [\(source), staleIfError: soon}]", "\"staleIfError\":"),
  ])
  func refusesBadSettings(text: String, message: String) {
    expectError(.config, containing: [message, "at sources[0].staleIfError"]) { _ = try load(text + "\n") }
  }

  private func stale(keyBy: String = "token", window: String = "10m", uid: String = "uid-1") throws -> (StaleSecrets, ProvideContext) {
    let config = try load(
      "credentialCache: {dir: \(directory.path)/cache, keyBy: \(keyBy)}\nsources: [\(Self.source), staleIfError: \(window)}]\n")
    let text = serviceAccountJWT(expires: now.secondsSinceEpoch + 3600, uid: uid)
    let request = try CredentialProviderRequest(apiVersion: .v1, image: "registry-a.example.com/app", serviceAccountToken: text)
    let cache = CredentialCache(settings: config.credentialCache!, diagnostics: warnings.diagnostics)
    let context = ProvideContext(request: request, scope: .image, now: now, diagnostics: warnings.diagnostics, credentialCache: cache)
    let source = try #require(config.sources[0] as? KubernetesSecretsSource)
    let server = try HTTPSURL(parsing: "https://10.0.0.1:6443")
    return (try #require(StaleSecrets(source: source, server: server, token: try ServiceAccountToken(text, now: now), context: context)), context)
  }

  private let account = ServiceAccountCoordinates(namespace: "team-a", name: "builder", uid: "uid-1")

  private func credentials() -> [SuppliedCredential] {
    [
      SuppliedCredential(
        key: RegistryKey(normalizing: "registry-a.example.com")!, credential: RegistryCredential(username: "alice", password: "alice-pw"),
        origin: CredentialOrigin(secret: SecretCoordinates(namespace: "team-a", name: "pull-a", uid: "s-1"), serviceAccount: account),
        sourceName: "k"),
      SuppliedCredential(
        key: RegistryKey(normalizing: "registry-b.example.com/team")!,
        credential: RegistryCredential(username: "bob", password: "bob-pw", email: "bob@example.com"),
        origin: CredentialOrigin(secret: SecretCoordinates(namespace: "team-a", name: "pull-b", uid: "s-2"), serviceAccount: account),
        sourceName: "k"),
    ]
  }

  private func summary(_ items: [SuppliedCredential]) -> [String] {
    items.map { "\($0.key.text) \($0.credential.username) \($0.credential.password) \($0.credential.email) \($0.origin.secret!) \($0.origin.serviceAccount!) \($0.expiresAt == nil)" }
  }

  @Test func keepsEveryCredentialForTheWindow() throws {
    let (stale, _) = try stale()
    stale.store(credentials(), now: now)
    let kept = try #require(stale.load(now: now.adding(.minutes(9))))
    #expect(summary(kept.credentials) == summary(credentials()))
    #expect(kept.fetchedAt == now && kept.expiresAt == now.adding(.minutes(10)))
    #expect(stale.load(now: now.adding(.minutes(10))) == nil)
    // The file's modification time is its expiry, as for every entry, so pruning needs no reads.
    let status = try #require(try FileIO.status(directory.path + "/cache/" + stale.name))
    #expect(status.modified == now.adding(.minutes(10)))
    // A live read replaces the entry: a Secret gone from the service account is gone from the cache.
    stale.store(Array(credentials().prefix(1)), now: now.adding(.minutes(1)))
    #expect(try #require(stale.load(now: now.adding(.minutes(2)))).credentials.count == 1)
    #expect(warnings.all.isEmpty)
  }

  @Test func keyedByTokenOrServiceAccount() throws {
    #expect(try stale().0.name != stale(uid: "uid-2").0.name)
    #expect(try stale(keyBy: "serviceAccount").0.name == stale(keyBy: "serviceAccount").0.name)
    #expect(try stale(keyBy: "serviceAccount").0.name != stale(keyBy: "serviceAccount", uid: "uid-2").0.name)
  }

  @Test func bridgesAnOutageButNeverARefusal() throws {
    let (stale, context) = try stale()
    let outage = PullwardenError(.source, "reading ServiceAccount team-a/builder failed: cannot connect", at: "GET https://10.0.0.1:6443/api").outage(true)
    // Nothing kept yet: the error stands.
    #expect(throws: outage) { try stale.bridge(outage, context: context) }
    stale.store(credentials(), now: now)
    #expect(summary(try stale.bridge(outage, context: context)) == summary(credentials()))
    #expect(
      warnings.all == [
        "source \"k\": reading ServiceAccount team-a/builder failed: cannot connect (GET https://10.0.0.1:6443/api); serving its cached Secrets, fetched at 2023-11-14T22:13:20Z, served until 2023-11-14T22:23:20Z (staleIfError)"
      ])
    #expect(context.advice.staleSources == ["k"])
    #expect(context.advice.staleServedUntil.map(\.until) == [now.adding(.minutes(10))])
    let refusal = PullwardenError(.source, "cannot read ServiceAccount team-a/builder: HTTP 403 Forbidden", at: "GET https://10.0.0.1:6443/api")
    #expect(throws: refusal) { try stale.bridge(refusal, context: context) }
    var later = context
    later.now = now.adding(.minutes(10))
    #expect(throws: outage) { try stale.bridge(outage, context: later) }
    #expect(context.advice.staleSources == ["k"])
  }

  @Test func aCorruptEntryIsAWarningNotAFailure() throws {
    let (stale, context) = try stale()
    directory.write("cache/" + stale.name, #"{"version":1,"expiresAt":"2030-01-01T00:00:00Z","fetchedAt":"2023-11-14T22:13:20Z","credentials":[{"key":"a.io"}]}"#, mode: 0o600)
    let outage = PullwardenError(.source, "cannot connect").outage(true)
    #expect(throws: outage) { try stale.bridge(outage, context: context) }
    #expect(warnings.all == ["ignoring corrupt credential cache entry \(directory.path)/cache/\(stale.name)"])
  }

  /// A stale copy bounds the answer's cacheDuration like an expiry, while the records stay as live.
  @Test func aStaleCopyBoundsTheCacheDuration() throws {
    let config = try load("credentialCache: {dir: c}\nsources: [\(Self.source), cacheDuration: 1h, staleIfError: 10m}]\n")
    let provider = Provider(config: config)
    let decision = provider.cacheDurationDecision(
      consulted: config.sources, supplied: credentials(), now: now, incomplete: false,
      staleUntil: [ResponseAdvice.StaleBound(source: "k", until: now.adding(.minutes(10)))])
    #expect(decision.value == .seconds(570))
    #expect(decision.reason == .expiry(source: "k", at: now.adding(.minutes(10)), skew: .seconds(30)))
    #expect(provider.cacheDurationDecision(consulted: config.sources, supplied: credentials(), now: now, incomplete: false).value == .hours(1))
  }
}
