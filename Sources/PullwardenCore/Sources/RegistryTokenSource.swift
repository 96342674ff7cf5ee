/// `type: registryToken`: gets a token from a registry's token service (the Docker registry token
/// flow), authenticating with the pod's service-account token, and hands it out as the password.
///
/// The token service is `tokenEndpoint` when configured; otherwise it is discovered the way docker
/// clients do: `GET <registry>/v2/` must answer 401 with `WWW-Authenticate: Bearer realm="…",
/// service="…"`. The token request is `GET <realm>?service=…&scope=…` with `Authorization: Bearer
/// <SA token>` (or Basic with the username and the SA token as password). The answer's `token` (or
/// `access_token`) is the password; `expires_in` (default 60 s, as the token specification says) bounds
/// the kubelet's cache.
public struct RegistryTokenSource: ServiceAccountTokenSource {
  public static let typeName = "registryToken"
  public static let makesHTTPRequests = true
  public static let settingKeys =
    ["registry", "tokenEndpoint", "service", "scope", "authentication"] + TokenSettings.keys + HTTPSourceSettings.keys + ["staleIfError"]
  static let mappable = ["scope", "service", "username"]
  /// The default scope: pull access to the requested repository.
  public static let defaultScope = "repository:{repository}:pull"
  /// Lifetime of a registry token whose answer has no `expires_in` (Docker token specification).
  public static let defaultLifetime = GoDuration.seconds(60)

  public enum Authentication: String, Sendable {
    /// `Authorization: Bearer <SA token>`.
    case bearer
    /// `Authorization: Basic base64(username:<SA token>)`.
    case basic
  }

  public let common: SourceCommon
  public let token: TokenSettings
  /// Where to discover the token service; nil means `https://<the image's registry>`.
  public let registry: HTTPSURL?
  public let tokenEndpoint: HTTPSURL?
  public let service: String?
  /// With `{repository}` replaced by the image's repository path; empty sends no scope.
  public let scope: String
  public let authentication: Authentication
  public let http: HTTPSettings
  /// Serve the cached credential when the service is down (see `CredentialCache.obtain`).
  public let staleIfError: Bool

  public init(common: SourceCommon, settings: ObjectReader, baseDirectory: String) throws(PullwardenError) {
    scope = try settings.string("scope") ?? Self.defaultScope
    let mappedScope = settings.object["annotationsToConfig"]?.objectValue?["scope"] != nil
    try Self.checkCacheKeyType(
      common, settings,
      imageOnly: scope.containsText("{repository}") || mappedScope ? "the token is scoped to one repository" : nil)
    self.common = common
    token = try TokenSettings(settings, mappable: Self.mappable)
    registry = try HTTPSourceSettings.url(settings, "registry")
    tokenEndpoint = try HTTPSourceSettings.url(settings, "tokenEndpoint")
    if registry != nil && tokenEndpoint != nil {
      throw settings.error("set \"registry\" (to discover the token service) or \"tokenEndpoint\", not both", at: "registry")
    }
    service = try settings.string("service")
    let method = try settings.string("authentication") ?? "bearer"
    guard let authentication = Authentication(rawValue: method) else {
      throw settings.error("unknown authentication \"\(method)\" (expected bearer or basic)", at: "authentication")
    }
    self.authentication = authentication
    http = try HTTPSourceSettings.read(settings, baseDirectory: baseDirectory)
    staleIfError = try settings.bool("staleIfError") ?? false
  }

  public var kubeletTokenAttributes: KubeletTokenAttributes {
    token.kubeletAttributes(cacheType: "Token", required: false)
  }

  public func credentials(for context: ProvideContext) throws(PullwardenError) -> [SuppliedCredential] {
    guard let serviceAccountToken = try token.serviceAccountToken(in: context, source: common.name) else { return [] }
    let image = context.request.reference
    let scopeText =
      (try token.value(of: "scope", configured: scope, in: context, source: common.name) ?? scope)
      .replacingAll("{repository}", with: image.path)
    // A repository-scoped token only works for that repository: key it so.
    let keyText = scopeText.containsText(image.path) && !image.path.isEmpty ? image.name : image.domain
    guard let key = RegistryKey(normalizing: keyText), context.includes(key, within: common.matchImages) else { return [] }
    let username = try token.value(of: "username", configured: token.username, in: context, source: common.name) ?? token.username
    let configuredService = try token.value(of: "service", configured: service, in: context, source: common.name)
    let client = context.httpClient(http, source: common.name)
    let serviceURL: HTTPSURL
    if let tokenEndpoint { serviceURL = tokenEndpoint } else { serviceURL = try registryURL(for: image) }
    if !context.trace.contactsServers {
      if tokenEndpoint == nil {
        let probe = serviceURL.appendingPath("/v2/")
        context.trace.note(.wouldCall(method: "GET", url: probe.redacted, purpose: "token service discovery"), source: common.name)
      }
      context.trace.note(
        .wouldCall(
          method: "GET", url: tokenEndpoint?.redacted ?? "<the realm of the registry's Bearer challenge>",
          purpose: "registry token request, scope \(quoted: scopeText)"),
        source: common.name)
      return unresolved(username: username, key: key, token: serviceAccountToken)
    }

    let obtained = try CredentialCache.obtain(
      in: context, source: self, token: serviceAccountToken,
      identity: [serviceURL.text, username, scopeText, configuredService ?? ""], staleIfError: staleIfError
    ) { () throws(PullwardenError) in
      let (realm, discoveredService) = try tokenService(for: image, client: client)
      return try requestToken(
        at: realm, service: configuredService ?? discoveredService, scope: scopeText, username: username,
        token: serviceAccountToken, client: client, now: context.now)
    }
    return supplied(obtained, username: username, key: key, token: serviceAccountToken)
  }

  /// The registry's base URL: configured, or the image's registry (Docker Hub's API lives on
  /// registry-1.docker.io).
  func registryURL(for image: ImageReference) throws(PullwardenError) -> HTTPSURL {
    if let registry { return registry }
    let host = image.domain == "docker.io" ? "registry-1.docker.io" : image.domain
    do {
      return try HTTPSURL(parsing: "https://\(host)/")
    } catch {
      throw PullwardenError(.source, "cannot build a registry URL for \(image.domain): \(error); set registry", at: "source \"\(common.name)\"")
    }
  }

  /// The token endpoint and service: configured, or from the registry's `GET /v2/` challenge.
  func tokenService(for image: ImageReference, client: HTTPClient) throws(PullwardenError) -> (HTTPSURL, String?) {
    if let tokenEndpoint { return (tokenEndpoint, nil) }
    let probe = HTTPRequest(method: .get, url: try registryURL(for: image).appendingPath("/v2/"))
    let call = TokenEndpointCall(client: client, source: common.name, purpose: "token service discovery", secrets: [])
    let response = try call.send(probe)
    let challenges = AuthenticationChallenge.parse(response.headers.all("www-authenticate"))
    guard response.status == 401, let bearer = challenges.first(where: { $0.scheme == "bearer" }) else {
      if response.status == 401 || response.isSuccess {
        let offered = challenges.isEmpty ? "no challenge" : "only " + challenges.map(\.scheme).joined(separator: ", ")
        throw call.failure(
          "the registry answered HTTP \(response.status) with \(response.status == 401 ? offered : "no Bearer challenge"), so it has no token service to discover; set tokenEndpoint",
          probe, attempts: response.attempts)
      }
      throw call.refused(response, probe)
    }
    guard let realmText = bearer.parameters["realm"], !realmText.isEmpty else {
      throw call.failure("the registry's Bearer challenge has no realm", probe, attempts: response.attempts)
    }
    do {
      return (try HTTPSURL(parsing: realmText), bearer.parameters["service"])
    } catch {
      throw call.failure(
        "the registry's token realm is not usable (\(error)); the service-account token is only sent over HTTPS",
        probe, attempts: response.attempts)
    }
  }

  /// The token request to the token service.
  func requestToken(
    at endpoint: HTTPSURL, service: String?, scope: String, username: String, token: ServiceAccountToken,
    client: HTTPClient, now: Timestamp
  ) throws(PullwardenError) -> ObtainedCredential {
    var query: [(name: String, value: String)] = []
    if let service { query.append(("service", service)) }
    if !scope.isEmpty { query.append(("scope", scope)) }
    let authorization: String
    switch authentication {
    case .bearer: authorization = "Bearer " + token.text
    case .basic: authorization = "Basic " + Base64.encode(Array("\(username):\(token.text)".utf8))
    }
    let request = HTTPRequest(method: .get, url: endpoint.addingQuery(query), headers: [("Authorization", authorization)])
    let call = TokenEndpointCall(client: client, source: common.name, purpose: "registry token request", secrets: [token.text])
    let answer = try call.json(request)
    let issued = answer.object["token"]?.stringValue ?? answer.object["access_token"]?.stringValue
    guard let issued, !issued.isEmpty else { throw call.failure("the answer has no \"token\" or \"access_token\"", request) }
    let lifetime = try call.lifetime(answer, "expires_in", request) ?? Self.defaultLifetime
    // Count from issued_at when the server says it issued the token earlier than our clock says now.
    var start = now
    if let issuedAt = answer.object["issued_at"]?.stringValue.flatMap({ Timestamp(rfc3339: $0) }), issuedAt < now {
      start = issuedAt
    }
    return ObtainedCredential(password: issued, expiresAt: start.adding(lifetime))
  }
}
