/// `type: passthrough`: hands out the pod's service-account token itself as the registry password, for
/// registries that accept Kubernetes service-account tokens directly (federated robot accounts, OIDC
/// login against the cluster's issuer).
///
/// The credential lives exactly as long as the token, so the cache duration is bounded by the token's
/// `exp`. The kubelet rejects a response that echoes the token unless the provider's
/// `tokenAttributes.cacheType` is `Token`.
public struct PassthroughSource: ServiceAccountTokenSource {
  public static let typeName = "passthrough"
  public static let makesHTTPRequests = false
  public static let settingKeys = TokenSettings.keys
  static let mappable = ["username"]

  public let common: SourceCommon
  public let token: TokenSettings

  public init(common: SourceCommon, settings: ObjectReader, baseDirectory: String) throws(PullwardenError) {
    try Self.checkCacheKeyType(common, settings)
    self.common = common
    token = try TokenSettings(settings, mappable: Self.mappable)
  }

  public var kubeletTokenAttributes: KubeletTokenAttributes {
    token.kubeletAttributes(cacheType: "Token", required: true)
  }

  public func credentials(for context: ProvideContext) throws(PullwardenError) -> [SuppliedCredential] {
    guard let (serviceAccountToken, key, username) = try prepare(context) else { return [] }
    let obtained = ObtainedCredential(password: serviceAccountToken.text, expiresAt: serviceAccountToken.expiresAt)
    return supplied(obtained, username: username, key: key, token: serviceAccountToken)
  }
}
