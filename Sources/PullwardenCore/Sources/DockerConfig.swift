/// Registry credentials read from a docker config: the `auths` map of `~/.docker/config.json` and
/// `.dockerconfigjson` Secrets, or the flat map of the legacy `.dockercfg` format.
///
/// Entries are decoded as the kubelet decodes `DockerConfigEntry`: `username`, `password` and `email`
/// are read (field names case-insensitively, as Go's encoding/json does), and a non-empty `auth`
/// (base64 of `username:password`, padded or not) replaces username and password.
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

  /// Entries in document order.
  public var entries: [Entry]

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
    var entries: [Entry] = []
    for member in map.object.members {
      guard case .object(let fields) = member.value else {
        throw map.error("registry entry must be an object, found \(member.value.typeName)", at: member.key)
      }
      let entryReader = ObjectReader(object: fields, path: map.path.appending(member.key), document: document)
      entries.append(Entry(rawKey: member.key, key: RegistryKey(normalizing: member.key), credential: try credential(entryReader)))
    }
    return DockerConfig(entries: entries)
  }

  private static func credential(_ entry: ObjectReader) throws(PullwardenError) -> RegistryCredential {
    var username = "", password = "", email = "", auth = ""
    for member in entry.object.members {
      let field = member.key.lowercased()
      // identitytoken, registrytoken, serveraddress: the kubelet does not use them.
      guard field == "username" || field == "password" || field == "email" || field == "auth" else { continue }
      let value: String
      switch member.value {
      case .string(let text): value = text
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
