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
  }

  /// - Parameter stateDirectory: where sources may keep caches between calls (ProvideRun passes the
  ///   records directory); nil keeps every source stateless.
  public func provide(
    _ request: CredentialProviderRequest, now: Timestamp, diagnostics: Diagnostics = .discard,
    stateDirectory: String? = nil
  ) throws(PullwardenError) -> Outcome {
    let image = URLLocation(image: request.reference)
    let matched = config.sources.filter { $0.common.serves(image) }
    guard !matched.isEmpty else {
      reportMiss(request, supplied: [], diagnostics: diagnostics)
      return miss(request, matched: [])
    }
    let scope = cacheScope(for: image, matched: matched)
    let context = ProvideContext(
      request: request, scope: scope, now: now, diagnostics: diagnostics, stateDirectory: stateDirectory,
      credentialCache: config.credentialCache.map { CredentialCache(settings: $0, diagnostics: diagnostics) })
    // A Global answer is reused for every image, so it must hold every source's credentials.
    let consulted = scope == .global ? config.sources : matched

    var supplied: [SuppliedCredential] = []
    for source in consulted {
      supplied += try source.credentials(for: context)
    }
    if supplied.isEmpty {
      reportMiss(request, supplied: [], diagnostics: diagnostics)
      return miss(request, matched: matched)
    }

    let assignment = AuthKeys.assign(supplied)
    var duration = Self.cacheDuration(
      configured: consulted.map(\.common.cacheDuration).min()!, expiries: supplied.compactMap(\.expiresAt), now: now,
      skew: config.expirySkew)
    if context.advice.isIncomplete { duration = min(duration, config.missCacheDuration) }
    let response = CredentialProviderResponse(
      apiVersion: request.apiVersion, cacheKeyType: scope, cacheDuration: duration, auth: assignment.auth)
    let handedOut = supplied.filter { $0.key.matches(image) }
    if handedOut.isEmpty { reportMiss(request, supplied: supplied, diagnostics: diagnostics) }
    return Outcome(response: response, handedOut: handedOut, matchedSources: matched.map(\.common.name))
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
  /// answer for.
  ///
  /// Start from the narrowest type among the sources serving the image. Registry is only kept if every
  /// source that serves any image of this registry allows it (otherwise a cached answer would hide
  /// that source for its images); Global only if every source allows it.
  func cacheScope(for image: URLLocation, matched: [any CredentialSource]) -> CacheKeyType {
    var scope = matched.map(\.common.cacheKeyType).min()!
    if scope >= .registry {
      let peers = config.sources.filter { $0.common.servesRegistry(of: image) }
      scope = min(scope, peers.map(\.common.cacheKeyType).min()!)
    }
    if scope == .global && config.sources.contains(where: { $0.common.cacheKeyType != .global }) {
      // Some source is narrower; the registry check above already holds, so Registry is safe.
      scope = .registry
    }
    return scope
  }

  /// A miss is never silent: one warning line names every source and why it gave nothing for the
  /// image (the kubelet logs stderr; `pullwarden explain` says more). Sources are named, never a
  /// credential.
  private func reportMiss(_ request: CredentialProviderRequest, supplied: [SuppliedCredential], diagnostics: Diagnostics) {
    let image = URLLocation(image: request.reference)
    let reasons = config.sources.map { source -> String in
      let name = "source \"\(source.common.name)\""
      guard source.common.serves(image) else {
        let patterns = source.common.matchImages.prefix(3).map { "\"\($0.text)\"" }.joined(separator: ", ")
        let more = source.common.matchImages.count > 3 ? ", …" : ""
        return "\(name): matchImages [\(patterns)\(more)] do not match"
      }
      let keys = supplied.filter { $0.sourceName == source.common.name }.count
      return keys == 0
        ? "\(name): matches, but has no credential for the image (no registry key matching it, or no service-account token)"
        : "\(name): matches, but none of its \(keys) credential(s) has a registry key matching the image"
    }
    let answer = supplied.isEmpty ? "; the answer is empty, cached for \(config.missCacheDuration)" : ""
    diagnostics.warn("no credentials for \(request.reference.name): \(reasons.joined(separator: "; "))\(answer)")
  }

  private func miss(_ request: CredentialProviderRequest, matched: [any CredentialSource]) -> Outcome {
    // A miss is cached only for this image and only briefly: credentials may appear soon.
    let response = CredentialProviderResponse(
      apiVersion: request.apiVersion, cacheKeyType: .image, cacheDuration: config.missCacheDuration, auth: [])
    return Outcome(response: response, handedOut: [], matchedSources: matched.map(\.common.name))
  }
}
