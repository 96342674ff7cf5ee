/// The response's `cacheKeyType` and the source that decided it (`Provider.cacheScope`).
public struct CacheScopeDecision: Sendable, Equatable {
  public var type: CacheKeyType
  public var reason: Reason

  public enum Reason: Sendable, Equatable {
    /// The narrowest `cacheKeyType` among the `serving` sources that serve the image is `source`'s
    /// (`unanimous` when they all have it).
    case serving(source: String, serving: Int, unanimous: Bool)
    /// `source` serves other images of this registry and allows only a narrower type than `wanted`:
    /// a wider answer would hide it for its images.
    case registryPeer(source: String, wanted: CacheKeyType)
    /// Every serving source allows Global, but `source` does not: Registry is the widest correct scope.
    case globalNarrowed(source: String)
    /// No credentials: a miss is cached for this image only.
    case miss
  }

  /// One sentence: why this type.
  public var explanation: String {
    switch reason {
    case .serving(let source, let serving, let unanimous):
      if serving == 1 { return "the cacheKeyType of source \(quoted: source), the only source serving the image" }
      if unanimous { return "the cacheKeyType of all \(serving) sources serving the image" }
      return "the narrowest cacheKeyType of the \(serving) sources serving the image, source \(quoted: source)'s"
    case .registryPeer(let source, let wanted):
      return "source \(quoted: source) serves other images of this registry and allows only \(type.rawValue), so not \(wanted.rawValue): a wider answer would hide that source for its images"
    case .globalNarrowed(let source):
      return "the serving sources allow Global, but source \(quoted: source) does not, so Registry, the widest scope that is still correct"
    case .miss:
      return "no credentials: a miss is cached for this image only"
    }
  }
}

/// The response's `cacheDuration` and what set it (`Provider.cacheDurationDecision`).
public struct CacheDurationDecision: Sendable, Equatable {
  public var value: GoDuration
  public var reason: Reason

  public enum Reason: Sendable, Equatable {
    /// The shortest configured `cacheDuration` (or the default) of the `consulted` sources, `source`'s.
    case configured(source: String, consulted: Int)
    /// A credential of `source` expires at `at`: the cache must end `skew` before.
    case expiry(source: String, at: Timestamp, skew: GoDuration)
    /// A source could give only part of its answer: cached like a miss, so the rest appears soon.
    case incomplete
    /// No credentials: `missCacheDuration`.
    case miss
  }

  public var explanation: String {
    switch reason {
    case .configured(let source, let consulted):
      return consulted == 1
        ? "the cacheDuration of source \(quoted: source)"
        : "the shortest cacheDuration of the \(consulted) sources consulted, source \(quoted: source)'s"
    case .expiry(let source, let at, let skew):
      return "a credential of source \(quoted: source) expires at \(at.rfc3339); the cache ends expirySkew (\(skew)) before"
    case .incomplete:
      return "a source could give only part of its answer (a Secret missing, forbidden or unreadable): missCacheDuration, so the rest is used soon after it is fixed"
    case .miss:
      return "missCacheDuration: a miss is retried soon"
    }
  }
}
