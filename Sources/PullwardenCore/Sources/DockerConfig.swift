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
      let field = goFoldedFieldName(member.key)
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
      guard let (user, pass) = decodeAuthField(auth) else {
        // Never quote the field: it is the credential.
        throw entry.error("\"auth\" is not base64 of \"username:password\"", at: "auth")
      }
      username = user
      password = pass
    }
    return RegistryCredential(username: username, password: password, email: email)
  }

  /// The field name as encoding/json compares it to a struct field, lower-cased here: ASCII letters
  /// fold, and of the other runes only U+017F (long s) and U+212A (Kelvin sign) fold into the
  /// letters of username/password/email/auth (Go folds to the smallest rune of the SimpleFold
  /// orbit, so "uſername" sets Username). `lowercased()` would also fold e.g. "İ" to "i̇".
  static func goFoldedFieldName(_ key: String) -> String {
    var folded = String.UnicodeScalarView()
    for scalar in key.unicodeScalars {
      switch scalar.value {
      case 0x41...0x5A: folded.append(Unicode.Scalar(scalar.value + 0x20)!)
      case 0x017F: folded.append("s")
      case 0x212A: folded.append("k")
      default: folded.append(scalar)
      }
    }
    return String(folded)
  }

  /// The kubelet's decodeDockerConfigFieldAuth: padded base64 (StdEncoding) when the field, trimmed
  /// of white space, ends in `=`, unpadded (RawStdEncoding) otherwise; either way the field itself is
  /// decoded untrimmed, so only `\r` and `\n` may surround it. Then split at the first `:`.
  ///
  /// Stricter in one way: a credential that is not UTF-8 is refused (Go keeps the raw bytes, but a
  /// JSON response can only carry them as U+FFFD, which is not the credential).
  static func decodeAuthField(_ field: String) -> (username: String, password: String)? {
    // strings.TrimSpace's ASCII set; non-ASCII white space fails decoding below either way.
    let trimmedLast = field.utf8.last { !($0 == 0x20 || (0x09...0x0D).contains($0)) }
    let padded = trimmedLast == UInt8(ascii: "=")
    guard let decoded = Base64.decode(field, padding: padded ? .required : .forbidden),
      let text = String(validating: decoded, as: UTF8.self),
      let colon = text.utf8.firstIndex(of: UInt8(ascii: ":"))
    else { return nil }
    return (String(text[..<colon]), String(text[text.utf8.index(after: colon)...]))
  }
}
