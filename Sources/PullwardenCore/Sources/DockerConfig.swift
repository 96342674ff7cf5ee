/// Registry credentials read from a docker config: the `auths` map of `~/.docker/config.json` and
/// `.dockerconfigjson` Secrets, or the flat map of the legacy `.dockercfg` format.
///
/// Entries are decoded as the kubelet decodes `DockerConfigEntry`: `username`, `password` and `email`
/// are read (field names case-insensitively, as Go's encoding/json does), and a non-empty `auth`
/// (base64 of `username:password`, padded or not) replaces username and password.
///
/// An entry with neither username nor password (an `identitytoken`, or what `credsStore` and
/// `credHelpers` leave behind) is not a credential: it is set aside in `skipped` rather than handed out
/// as an empty login. Sizes are bounded by `TenantLimits`.
public struct DockerConfig: Sendable {
  public struct Entry: Sendable {
    /// The key as written (`https://index.docker.io/v1/`, `registry.example.com:5000`).
    public var rawKey: String
    /// The key as the keyring stores it; nil when the kubelet would skip the entry.
    public var key: RegistryKey?
    public var credential: RegistryCredential
  }

  public enum Format: String, Sendable {
    /// `{"auths": {registry: entry}}`
    case configJSON = "config.json"
    /// `{registry: entry}`
    case dockercfg
  }

  /// An entry that holds no usable credential.
  public struct Skipped: Sendable {
    public var rawKey: String
    /// Why, e.g. "it has neither username nor password".
    public var reason: String
  }

  /// Entries in document order.
  public var entries: [Entry]
  /// Entries left out, in document order; callers warn about them.
  public var skipped: [Skipped] = []

  /// Reads the entries of a parsed docker config.
  ///
  /// - Parameter format: nil to detect: a top-level `auths` object means config.json.
  public static func parse(_ document: Document, format: Format?) throws(PullwardenError) -> DockerConfig {
    let reader = try document.rootObject(describedAs: "docker config")
    let detected = format ?? (reader.object["auths"]?.objectValue != nil ? .configJSON : .dockercfg)
    let map: ObjectReader
    switch detected {
    case .configJSON:
      guard let auths = try reader.object("auths") else { return DockerConfig(entries: []) }
      map = auths
    case .dockercfg:
      map = reader
    }
    let count = map.object.members.count
    if count > TenantLimits.entriesPerDockerConfig {
      throw map.error(
        "docker config holds \(count) registry entries, more than the limit of \(TenantLimits.entriesPerDockerConfig) (entriesPerDockerConfig)")
    }
    var config = DockerConfig(entries: [])
    for member in map.object.members {
      let keyLength = member.key.utf8.count
      if keyLength > TenantLimits.registryKeyLength {
        // Not quoted, nor placed in the path: it is too long for a log line.
        throw map.error(
          "a registry key of \(keyLength) bytes is longer than the limit of \(TenantLimits.registryKeyLength) bytes (registryKeyLength)")
      }
      guard case .object(let fields) = member.value else {
        throw map.error("registry entry must be an object, found \(member.value.typeName)", at: member.key)
      }
      let entryReader = ObjectReader(object: fields, path: map.path.appending(member.key), document: document)
      let credential = try credential(entryReader)
      if credential.username.isEmpty && credential.password.isEmpty {
        config.skipped.append(
          Skipped(rawKey: member.key, reason: "it has neither username nor password (identity tokens and credential helpers are not supported)"))
        continue
      }
      config.entries.append(Entry(rawKey: member.key, key: RegistryKey(normalizing: member.key), credential: credential))
    }
    return config
  }

  private static func credential(_ entry: ObjectReader) throws(PullwardenError) -> RegistryCredential {
    var username = "", password = "", email = "", auth = ""
    for member in entry.object.members {
      let field = member.key.lowercased()
      // identitytoken, registrytoken, serveraddress: the kubelet does not use them.
      guard field == "username" || field == "password" || field == "email" || field == "auth" else { continue }
      let value: String
      switch member.value {
      case .string(let text):
        if text.utf8.count > TenantLimits.credentialValueLength {
          // Never quote the value: it may be the credential.
          throw entry.error(
            "\"\(member.key)\" is longer than the limit of \(ByteCount(TenantLimits.credentialValueLength)) (credentialValueLength)",
            at: member.key)
        }
        value = text
      case .null: continue
      default: throw entry.error("\"\(member.key)\" must be a string, found \(member.value.typeName)", at: member.key)
      }
      switch field {
      case "username": username = value
      case "password": password = value
      case "email": email = value
      default: auth = value
      }
    }
    if !auth.isEmpty {
      guard let decoded = Base64.decode(auth.trimmingASCIIWhitespace()),
        let text = String(validating: decoded, as: UTF8.self),
        let colon = text.firstIndex(of: ":")
      else {
        // Never quote the field: it is the credential.
        throw entry.error("\"auth\" is not base64 of \"username:password\"", at: "auth")
      }
      username = String(text[..<colon])
      password = String(text[text.index(after: colon)...])
    }
    return RegistryCredential(username: username, password: password, email: email)
  }
}
