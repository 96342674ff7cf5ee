/// Answers one `CredentialProviderRequest` from the configured sources.
///
/// Pure apart from the sources' own reads: it decides the cache scope, asks every relevant source in
/// config order, assigns auth keys, and returns both the response and the credentials the kubelet will
/// try for the requested image (which the record store hashes and records).
public struct Provider: Sendable {
  public let config: PullwardenConfig

  public init(config: PullwardenConfig) {
    self.config = config
  }

  public struct Outcome: Sendable {
    public var response: CredentialProviderResponse
    /// Credentials in the response whose keys match the requested image, with their origins.
    public var handedOut: [SuppliedCredential]
    /// Sources that served the image (matched by `matchImages`), in config order.
    public var matchedSources: [String]
    /// The response's keys with the credentials behind them; nil for an empty answer.
    public var assignment: AuthKeys.Assignment?
    /// Why the response has its `cacheKeyType`.
    public var scope: CacheScopeDecision
    /// Why the response has its `cacheDuration`.
    public var duration: CacheDurationDecision
    /// The warning `provide` writes when the image gets no credential; nil otherwise.
    public var missLine: String?
  }

  /// What is decided before any source runs: which sources serve the image, the cache scope, and
  /// which sources are asked (all of them for a `Global` answer).
  public struct Plan: Sendable {
    let image: URLLocation
    public var matched: [any CredentialSource]
    /// Meaningful only when `matched` is not empty.
    public var scope: CacheScopeDecision
    public var consulted: [any CredentialSource]

    /// Whether a source to be asked may make HTTP requests.
    public var makesHTTPRequests: Bool { consulted.contains { $0.makesHTTPRequests } }
  }

  public func plan(for request: CredentialProviderRequest) -> Plan {
    let image = URLLocation(image: request.reference)
    let matched = config.sources.filter { $0.common.serves(image) }
    guard !matched.isEmpty else {
      return Plan(image: image, matched: [], scope: CacheScopeDecision(type: .image, reason: .miss), consulted: [])
    }
    let scope = cacheScope(for: image, matched: matched)
    // A Global answer is reused for every image, so it must hold every source's credentials.
    return Plan(image: image, matched: matched, scope: scope, consulted: scope.type == .global ? config.sources : matched)
  }

  /// The context the sources of `plan` are asked with.
  public func context(
    for request: CredentialProviderRequest, plan: Plan, now: Timestamp, diagnostics: Diagnostics, stateDirectory: String?,
    trace: ProvideTrace = ProvideTrace()
  ) -> ProvideContext {
    // explain neither reads nor writes the credential cache: it must leave no trace on disk.
    let cache = trace.isExplaining ? nil : config.credentialCache.map { CredentialCache(settings: $0, diagnostics: diagnostics) }
    return ProvideContext(
      request: request, scope: plan.scope.type, now: now, diagnostics: diagnostics, stateDirectory: stateDirectory,
      credentialCache: cache, trace: trace)
  }

  /// - Parameter stateDirectory: where sources may keep caches between calls (ProvideRun passes the
  ///   records directory); nil keeps every source stateless.
  public func provide(
    _ request: CredentialProviderRequest, now: Timestamp, diagnostics: Diagnostics = .discard,
    stateDirectory: String? = nil
  ) throws(PullwardenError) -> Outcome {
    try provide(request, now: now, diagnostics: diagnostics, stateDirectory: stateDirectory, observation: nil)
  }

  /// `provide`, with `observation` collecting what each source did for the decision log and metrics;
  /// nil (the kubelet's hot path without `log:`/`metrics:`) collects nothing. `plan` is `plan(for:
  /// request)` when the caller made it already.
  func provide(
    _ request: CredentialProviderRequest, now: Timestamp, diagnostics: Diagnostics, stateDirectory: String?,
    observation: ProvideObservation?, plan: Plan? = nil
  ) throws(PullwardenError) -> Outcome {
    let plan = plan ?? self.plan(for: request)
    let context = context(
      for: request, plan: plan, now: now, diagnostics: diagnostics, stateDirectory: stateDirectory,
      trace: observation?.trace ?? ProvideTrace())
    var supplied: [SuppliedCredential] = []
    if let observation {
      observation.plan = plan
      observation.advice = context.advice
      for source in plan.consulted {
        do {
          let credentials = try source.credentials(for: context)
          observation.bySource[source.common.name] = credentials
          supplied += credentials
        } catch {
          observation.failure = (source.common.name, error)
          throw error
        }
      }
    } else {
      for source in plan.consulted {
        supplied += try source.credentials(for: context)
      }
    }
    let outcome = assemble(request, plan: plan, supplied: supplied, context: context)
    observation?.outcome = outcome
    if let missLine = outcome.missLine { diagnostics.warn(missLine) }
    return outcome
  }

  /// The response from what the consulted sources supplied: keys in the kubelet's order, cache scope
  /// and duration, and the credentials handed out for the image. `explain` calls this too.
  public func assemble(
    _ request: CredentialProviderRequest, plan: Plan, supplied: [SuppliedCredential], context: ProvideContext
  ) -> Outcome {
    if plan.matched.isEmpty || supplied.isEmpty {
      // A miss is cached only for this image and only briefly: credentials may appear soon.
      let response = CredentialProviderResponse(
        apiVersion: request.apiVersion, cacheKeyType: .image, cacheDuration: config.missCacheDuration, auth: [])
      return Outcome(
        response: response, handedOut: [], matchedSources: plan.matched.map(\.common.name), assignment: nil,
        scope: CacheScopeDecision(type: .image, reason: .miss),
        duration: CacheDurationDecision(value: config.missCacheDuration, reason: .miss),
        missLine: missLine(request, image: plan.image, supplied: supplied, trace: context.trace))
    }
    let assignment = AuthKeys.assign(supplied)
    let duration = cacheDurationDecision(
      consulted: plan.consulted, supplied: supplied, now: context.now, incomplete: context.advice.isIncomplete,
      staleUntil: context.advice.staleServedUntil)
    let response = CredentialProviderResponse(
      apiVersion: request.apiVersion, cacheKeyType: plan.scope.type, cacheDuration: duration.value, auth: assignment.auth)
    let handedOut = supplied.filter { $0.key.matches(plan.image) }
    return Outcome(
      response: response, handedOut: handedOut, matchedSources: plan.matched.map(\.common.name), assignment: assignment,
      scope: plan.scope, duration: duration,
      missLine: handedOut.isEmpty ? missLine(request, image: plan.image, supplied: supplied, trace: context.trace) : nil)
  }

  /// The `cacheDuration` and what set it: the shortest configured duration of the consulted sources,
  /// bounded by every credential's expiry (less `expirySkew`), and by `missCacheDuration` when a
  /// source could give only part of its answer. A stale copy served without an expiry of its own
  /// (`staleUntil`) bounds it like an expiry.
  func cacheDurationDecision(
    consulted: [any CredentialSource], supplied: [SuppliedCredential], now: Timestamp, incomplete: Bool,
    staleUntil: [ResponseAdvice.StaleBound] = []
  ) -> CacheDurationDecision {
    let shortest = consulted.min { $0.common.cacheDuration < $1.common.cacheDuration }!
    var decision = CacheDurationDecision(
      value: shortest.common.cacheDuration, reason: .configured(source: shortest.common.name, consulted: consulted.count))
    let expiries =
      supplied.compactMap { item in item.expiresAt.map { (source: item.sourceName, at: $0) } }
      + staleUntil.map { (source: $0.source, at: $0.until) }
    for (source, expiresAt) in expiries {
      let bound = Self.cacheDuration(configured: decision.value, expiries: [expiresAt], now: now, skew: config.expirySkew)
      if bound < decision.value {
        decision = CacheDurationDecision(value: bound, reason: .expiry(source: source, at: expiresAt, skew: config.expirySkew))
      }
    }
    if incomplete && config.missCacheDuration < decision.value {
      decision = CacheDurationDecision(value: config.missCacheDuration, reason: .incomplete)
    }
    return decision
  }

  /// How long the kubelet may cache the answer: the configured duration, but never past any handed-out
  /// credential's expiry less `skew` (so a cached credential still has time to complete a pull), in
  /// whole seconds, and never negative.
  static func cacheDuration(configured: GoDuration, expiries: [Timestamp], now: Timestamp, skew: GoDuration) -> GoDuration {
    var duration = configured
    for expiresAt in expiries {
      // Whole seconds, rounded down: never later than the bound, and stable on the wire.
      let left = (now.duration(until: expiresAt) - skew).wholeSeconds
      duration = min(duration, .seconds(max(0, left)))
    }
    return duration
  }

  /// The widest `cacheKeyType` that is still correct for every image the kubelet would reuse the
  /// answer for, and which source decided it.
  ///
  /// Start from the narrowest type among the sources serving the image. Registry is only kept if every
  /// source that serves any image of this registry allows it (otherwise a cached answer would hide
  /// that source for its images); Global only if every source allows it.
  func cacheScope(for image: URLLocation, matched: [any CredentialSource]) -> CacheScopeDecision {
    let narrowest = matched.min { $0.common.cacheKeyType < $1.common.cacheKeyType }!
    var decision = CacheScopeDecision(
      type: narrowest.common.cacheKeyType, reason: .serving(
        source: narrowest.common.name, serving: matched.count,
        unanimous: matched.allSatisfy { $0.common.cacheKeyType == narrowest.common.cacheKeyType }))
    if decision.type >= .registry {
      let peers = config.sources.filter { $0.common.servesRegistry(of: image) }
      let peer = peers.min { $0.common.cacheKeyType < $1.common.cacheKeyType }!
      if peer.common.cacheKeyType < decision.type {
        decision = CacheScopeDecision(
          type: peer.common.cacheKeyType, reason: .registryPeer(source: peer.common.name, wanted: decision.type))
      }
    }
    if decision.type == .global, let narrower = config.sources.first(where: { $0.common.cacheKeyType != .global }) {
      // Some source is narrower; the registry check above already holds, so Registry is safe.
      decision = CacheScopeDecision(type: .registry, reason: .globalNarrowed(source: narrower.common.name))
    }
    return decision
  }

  /// A miss is never silent: one warning line names every source and why it gave nothing for the
  /// image (the kubelet logs stderr; `pullwarden explain` says more), with the same reasons
  /// `explain` gives (`SourceVerdict`). Sources are named, never a credential.
  func missLine(
    _ request: CredentialProviderRequest, image: URLLocation, supplied: [SuppliedCredential], trace: ProvideTrace
  ) -> String {
    let reasons = config.sources.map { source -> String in
      let verdict = SourceVerdict.judge(
        source, image: image, supplied: supplied.filter { $0.sourceName == source.common.name }, handedOut: 0,
        notes: trace.notes(for: source.common.name), failure: nil, reached: true)
      return "source \(quoted: source.common.name): \(verdict.summary)"
    }
    let answer = supplied.isEmpty ? "; the answer is empty, cached for \(config.missCacheDuration)" : ""
    return "no credentials for \(request.reference.name): \(reasons.joined(separator: "; "))\(answer)"
  }
}
