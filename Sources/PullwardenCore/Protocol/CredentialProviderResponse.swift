/// A registry credential as the kubelet's keyring holds it.
///
/// `email` never goes on the wire (the v1 `AuthConfig` has only username and password, and the
/// kubelet's strict decoder refuses unknown fields), but it is part of the KEP-2535 credential hash
/// when a docker config supplies it.
public struct RegistryCredential: Hashable, Sendable {
  public var username: String
  public var password: String
  public var email: String

  public init(username: String, password: String, email: String = "") {
    self.username = username
    self.password = password
    self.email = email
  }
}

/// One `CredentialProviderResponse`, encoded for stdout.
public struct CredentialProviderResponse: Sendable {
  public static let kind = "CredentialProviderResponse"

  public var apiVersion: ProtocolVersion
  public var cacheKeyType: CacheKeyType
  /// nil lets the kubelet use the provider's `defaultCacheDuration`.
  public var cacheDuration: GoDuration?
  /// Credentials by auth key, in the order the kubelet will try them.
  public var auth: [(key: String, credential: RegistryCredential)]

  public init(
    apiVersion: ProtocolVersion, cacheKeyType: CacheKeyType, cacheDuration: GoDuration?,
    auth: [(key: String, credential: RegistryCredential)]
  ) {
    self.apiVersion = apiVersion
    self.cacheKeyType = cacheKeyType
    self.cacheDuration = cacheDuration
    self.auth = auth
  }

  /// The response as a JSON value, fields in Go's encoding order (`kind` first, from TypeMeta).
  ///
  /// With no credentials `auth` is `null`, as the kubelet's API documentation asks, so the kubelet
  /// caches the miss for `cacheDuration`.
  public var json: JSONValue {
    var object = JSONObject()
    object["kind"] = .string(Self.kind)
    object["apiVersion"] = .string(apiVersion.rawValue)
    object["cacheKeyType"] = .string(cacheKeyType.rawValue)
    if let cacheDuration { object["cacheDuration"] = .string(cacheDuration.description) }
    if auth.isEmpty {
      object["auth"] = .null
    } else {
      var entries = JSONObject()
      for (key, credential) in auth {
        entries[key] = .object(["username": .string(credential.username), "password": .string(credential.password)])
      }
      object["auth"] = .object(entries)
    }
    return .object(object)
  }

  /// Compact one-line JSON with a trailing newline, ready for stdout.
  public func encoded() -> [UInt8] {
    JSON.encode(json) + [UInt8(ascii: "\n")]
  }
}
