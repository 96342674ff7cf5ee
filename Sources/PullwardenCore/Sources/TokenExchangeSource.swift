/// `type: tokenExchange`: trades the pod's service-account token for an access token at an OAuth 2.0
/// Token Exchange endpoint (RFC 8693) and hands it out as the registry password.
///
/// The request is a form POST with `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`,
/// `subject_token=<the SA token>`, `subject_token_type=urn:ietf:params:oauth:token-type:jwt`, and
/// `audience`, `resource`, `scope`, `requested_token_type`, `client_id` when configured (the first three
/// may come from service-account annotations). `access_token` becomes the password, with the configured
/// username; `expires_in` bounds the kubelet's cache (or, when absent, the access token's own `exp`
/// if it is a JWT).
public struct TokenExchangeSource: ServiceAccountTokenSource {
  public static let typeName = "tokenExchange"
  public static let makesHTTPRequests = true
  public static let settingKeys =
    ["endpoint", "audience", "resource", "scope", "requestedTokenType", "clientId"] + TokenSettings.keys
    + HTTPSourceSettings.keys + ["staleIfError"]
  static let mappable = ["audience", "resource", "scope", "username"]
  public static let grantType = "urn:ietf:params:oauth:grant-type:token-exchange"
  public static let subjectTokenType = "urn:ietf:params:oauth:token-type:jwt"

  public let common: SourceCommon
  public let token: TokenSettings
  public let endpoint: HTTPSURL
  public let audience: String?
  public let resource: String?
  public let scope: String?
  public let requestedTokenType: String?
  public let clientId: String?
  public let http: HTTPSettings
  /// Serve the cached credential when the service is down (see `CredentialCache.obtain`).
  public let staleIfError: Bool

  public init(common: SourceCommon, settings: ObjectReader, baseDirectory: String) throws(PullwardenError) {
    try Self.checkCacheKeyType(common, settings)
    self.common = common
    token = try TokenSettings(settings, mappable: Self.mappable)
    guard let endpoint = try HTTPSourceSettings.url(settings, "endpoint") else {
      throw settings.error("missing required field \"endpoint\" (the token exchange URL)")
    }
    self.endpoint = endpoint
    func optional(_ key: String) throws(PullwardenError) -> String? {
      let value = try settings.string(key)
      if value?.isEmpty == true { throw settings.error("\"\(key)\" must not be empty (leave it out instead)", at: key) }
      return value
    }
    audience = try optional("audience")
    resource = try optional("resource")
    scope = try optional("scope")
    requestedTokenType = try optional("requestedTokenType")
    clientId = try optional("clientId")
    http = try HTTPSourceSettings.read(settings, baseDirectory: baseDirectory)
    staleIfError = try settings.bool("staleIfError") ?? false
  }

  /// `Token` is safest; `ServiceAccount` also works when the exchanged credential depends only on the
  /// service account (the exchange is not bound to the pod).
  public var kubeletTokenAttributes: KubeletTokenAttributes {
    token.kubeletAttributes(cacheType: "Token", required: false)
  }

  public func credentials(for context: ProvideContext) throws(PullwardenError) -> [SuppliedCredential] {
    guard let (serviceAccountToken, key, username) = try prepare(context) else { return [] }
    var parameters: [(name: String, value: String)] = []
    for (name, configured) in [("audience", audience), ("resource", resource), ("scope", scope)] {
      if let value = try token.value(of: name, configured: configured, in: context, source: common.name) {
        parameters.append((name, value))
      }
    }
    if let requestedTokenType { parameters.append(("requested_token_type", requestedTokenType)) }
    if let clientId { parameters.append(("client_id", clientId)) }
    if !context.trace.contactsServers {
      context.trace.note(.wouldCall(method: "POST", url: endpoint.redacted, purpose: "token exchange"), source: common.name)
      return unresolved(username: username, key: key, token: serviceAccountToken)
    }

    let obtained = try CredentialCache.obtain(
      in: context, source: self, token: serviceAccountToken,
      identity: [endpoint.text, username] + parameters.flatMap { [$0.name, $0.value] }, staleIfError: staleIfError
    ) { () throws(PullwardenError) in
      try exchange(serviceAccountToken, parameters: parameters, now: context.now, client: context.httpClient(http, source: common.name))
    }
    return supplied(obtained, username: username, key: key, token: serviceAccountToken)
  }

  /// The RFC 8693 call itself.
  func exchange(
    _ serviceAccountToken: ServiceAccountToken, parameters: [(name: String, value: String)], now: Timestamp,
    client: HTTPClient
  ) throws(PullwardenError) -> ObtainedCredential
  {
    let fields: [(name: String, value: String)] =
      [
        ("grant_type", Self.grantType), ("subject_token", serviceAccountToken.text),
        ("subject_token_type", Self.subjectTokenType),
      ] + parameters
    let request = HTTPRequest.form(endpoint, fields)
    let call = TokenEndpointCall(
      client: client, source: common.name, purpose: "token exchange", secrets: [serviceAccountToken.text])
    let answer = try call.json(request)
    guard case .string(let accessToken)? = answer.object["access_token"], !accessToken.isEmpty else {
      throw call.failure("the answer has no \"access_token\"", request)
    }
    var expiresAt = try call.lifetime(answer, "expires_in", request).map { now.adding($0) }
    if expiresAt == nil, let jwt = try? JWT(decoding: accessToken), let exp = try? jwt.time("exp") {
      expiresAt = exp
    }
    return ObtainedCredential(password: accessToken, expiresAt: expiresAt)
  }
}
