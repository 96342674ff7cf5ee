import Synchronization

/// A service account's identity, as KEP-2535 pull records and KEP-4412 tokens carry it.
public struct ServiceAccountCoordinates: Hashable, Sendable, CustomStringConvertible {
  public var namespace: String
  public var name: String
  public var uid: String

  public init(namespace: String, name: String, uid: String) {
    self.namespace = namespace
    self.name = name
    self.uid = uid
  }

  public var description: String { "\(namespace)/\(name)" }
}

/// Who a credential belongs to. Neither set means node-wide: any pod on the node may use images
/// pulled with it (`nodePodsAccessible` in a pull record).
public struct CredentialOrigin: Hashable, Sendable {
  public var secret: SecretCoordinates?
  public var serviceAccount: ServiceAccountCoordinates?

  public static let node = CredentialOrigin(secret: nil, serviceAccount: nil)

  public init(secret: SecretCoordinates? = nil, serviceAccount: ServiceAccountCoordinates? = nil) {
    self.secret = secret
    self.serviceAccount = serviceAccount
  }

  public var isNodeWide: Bool { secret == nil && serviceAccount == nil }
}

/// One credential a source offers for a request.
public struct SuppliedCredential: Sendable {
  /// The registry key it is valid for (the auth key the kubelet matches images against).
  public var key: RegistryKey
  public var credential: RegistryCredential
  public var origin: CredentialOrigin
  /// When the credential itself stops working (a token's expiry); nil for static passwords.
  public var expiresAt: Timestamp?
  /// The configured source that supplied it.
  public var sourceName: String
  /// A stand-in for the credential a call would obtain (`explain` without `--live`): its password is
  /// empty and its hash and expiry unknown. Never set in `provide`.
  public var unresolved: Bool

  public init(
    key: RegistryKey, credential: RegistryCredential, origin: CredentialOrigin, expiresAt: Timestamp? = nil,
    sourceName: String, unresolved: Bool = false
  ) {
    self.key = key
    self.credential = credential
    self.origin = origin
    self.expiresAt = expiresAt
    self.sourceName = sourceName
    self.unresolved = unresolved
  }
}

/// What a source is asked: which image, and how widely the answer will be reused.
public struct ProvideContext: Sendable {
  public var request: CredentialProviderRequest
  /// The response's `cacheKeyType`, decided before any source runs: a source must include every
  /// credential the kubelet could need for any image the cached answer will be reused for.
  public var scope: CacheKeyType
  public var now: Timestamp
  public var diagnostics: Diagnostics
  /// Where sources may keep caches between calls (the records directory); nil for none.
  public var stateDirectory: String?
  /// Where token sources keep exchanged credentials between runs; nil when the cache is off.
  public var credentialCache: CredentialCache?
  /// When network calls of this run must be done: the kubelet kills the plugin after one minute, and
  /// several token sources may each be asked in turn.
  public var deadline: MonotonicInstant
  /// How much of the kubelet's minute a run may spend on the network, leaving room to answer.
  public static let networkTimeLimit = Duration.seconds(50)
  /// What sources report about the answer as a whole (shared by every copy of this context).
  public let advice = ResponseAdvice()
  /// Why sources gave nothing, and for `explain` the calls they make or would make.
  public let trace: ProvideTrace
  let image: URLLocation

  public init(
    request: CredentialProviderRequest, scope: CacheKeyType, now: Timestamp, diagnostics: Diagnostics,
    stateDirectory: String? = nil, credentialCache: CredentialCache? = nil, trace: ProvideTrace = ProvideTrace()
  ) {
    self.trace = trace
    self.request = request
    self.scope = scope
    self.now = now
    self.diagnostics = diagnostics
    self.stateDirectory = stateDirectory
    self.credentialCache = credentialCache
    self.deadline = MonotonicInstant.now + Self.networkTimeLimit
    self.image = URLLocation(image: request.reference)
  }

  /// The HTTP client a source uses for this run: bounded by the run's deadline, and observed when
  /// `explain --live` reports the calls.
  func httpClient(_ settings: HTTPSettings, source: String) -> HTTPClient {
    HTTPClient(settings: settings, runDeadline: deadline, observer: trace.callObserver(source: source))
  }

  /// Notes, when explaining, a key the source holds that this answer leaves out, and why.
  func noteLeftOut(_ key: RegistryKey, source: String) {
    guard trace.isExplaining else { return }
    trace.note(.keyLeftOut(key: key.text, mismatch: scope == .image ? key.mismatch(image) : nil), source: source)
  }

  /// A cheap test that rules out most keys before `includes` builds a `RegistryKey`: a key whose host
  /// and port hold no glob character can only match (Image and Registry scope) when they equal the
  /// image's host and port exactly.
  func mayInclude(keyText: String) -> Bool {
    guard scope != .global else { return true }
    let authority = keyText.utf8.prefix { $0 != UInt8(ascii: "/") }
    if authority.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "\\") }) {
      return true
    }
    return authority.elementsEqual(image.authority.utf8)
  }

  /// Whether credentials stored under `key` belong in this response, for a source with `patterns`.
  ///
  /// Image scope: the key matches the image. Registry scope: the key names the image's registry (any
  /// path). Global scope: the key names a registry the source's `matchImages` covers.
  public func includes(_ key: RegistryKey, within patterns: [ImagePattern]) -> Bool {
    switch scope {
    case .image:
      return key.matches(image)
    case .registry:
      return key.matchesRegistry(of: image)
    case .global:
      let keyLocation = URLLocation(key.text)
      return patterns.contains { $0.matchesRegistry(of: keyLocation) }
    }
  }
}

/// Settings every source has, whatever its type.
public struct SourceCommon: Sendable {
  public var name: String
  public var matchImages: [ImagePattern]
  public var cacheKeyType: CacheKeyType
  public var cacheDuration: GoDuration

  /// Whether the source serves `image` (one of its patterns matches).
  func serves(_ image: URLLocation) -> Bool {
    matchImages.contains { $0.matches(image) }
  }

  /// Whether the source could serve some image in the registry of `image`.
  func servesRegistry(of image: URLLocation) -> Bool {
    matchImages.contains { $0.matchesRegistry(of: image) }
  }
}

/// A place credentials come from. Implementations are built once from the config (no I/O) and asked
/// per request.
public protocol CredentialSource: Sendable {
  /// The `type` value that selects this source in the config.
  static var typeName: String { get }
  /// Keys this type accepts in its config entry, besides the common ones.
  static var settingKeys: [String] { get }

  var common: SourceCommon { get }

  /// Reads the type-specific settings; relative paths are resolved against `baseDirectory`.
  init(common: SourceCommon, settings: ObjectReader, baseDirectory: String) throws(PullwardenError)

  /// The credentials for `context`, in the order they should be tried.
  func credentials(for context: ProvideContext) throws(PullwardenError) -> [SuppliedCredential]

  /// Whether asking this type may make HTTP requests (then only a process with `HTTPSupport` can).
  /// No default: a new type must say, or the static build would not hand its calls off.
  static var makesHTTPRequests: Bool { get }
}

extension CredentialSource {
  /// The source's `type` value, from an instance.
  public var typeName: String { Self.typeName }

  /// Whether asking this source may make HTTP requests, from an instance.
  public var makesHTTPRequests: Bool { Self.makesHTTPRequests }

  /// Builds a source of this type as an existential (calling `init` through `any
  /// CredentialSource.Type` with typed throws crashes the Swift 6.3 compiler).
  static func make(common: SourceCommon, settings: ObjectReader, baseDirectory: String) throws(PullwardenError)
    -> any CredentialSource
  {
    try Self(common: common, settings: settings, baseDirectory: baseDirectory)
  }
}

/// What sources tell the provider about the answer they contributed to.
public final class ResponseAdvice: Sendable {
  private let incomplete = Atomic<Bool>(false)

  public init() {}

  /// A source answered with only part of what it should have (a listed Secret was missing or
  /// forbidden): the answer is cached only as long as a miss (`missCacheDuration`), so the credentials
  /// appear soon after the problem is fixed.
  public func noteIncompleteAnswer() { incomplete.store(true, ordering: .relaxed) }

  public var isIncomplete: Bool { incomplete.load(ordering: .relaxed) }

  private let stale = Mutex<[String]>([])

  private let staleBounds = Mutex<[StaleBound]>([])

  /// A source served a cached credential because its service failed (`staleIfError`). `servedUntil`:
  /// when the served copy stops being served (credentials without an expiry of their own, such as
  /// Secrets); the answer must not be cached past it.
  func noteStaleCredential(source: String, servedUntil: Timestamp? = nil) {
    stale.withLock { $0.append(source) }
    if let servedUntil { staleBounds.withLock { $0.append(StaleBound(source: source, until: servedUntil)) } }
  }

  /// The sources that served a cached credential in this run, in the order they did.
  var staleSources: [String] { stale.withLock { $0 } }

  /// Until when stale copies without an expiry of their own may be served, by source.
  var staleServedUntil: [StaleBound] { staleBounds.withLock { $0 } }

  struct StaleBound: Sendable {
    var source: String
    var until: Timestamp
  }
}
