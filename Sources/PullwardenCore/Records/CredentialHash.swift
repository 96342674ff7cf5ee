/// The KEP-2535 `credentialHash` of a registry credential, exactly as the kubelet computes it.
///
/// The kubelet hashes `json.Marshal(AuthConfig)` (pkg/credentialprovider/keyring.go): an object with
/// `username`, `password`, `auth`, `email`, `serveraddress`, `identitytoken`, `registrytoken`, all
/// `omitempty`, in that order. Keyring entries carry only username, password and email (a docker
/// `auth` field is decoded into username and password first), so the hashed text is
/// `{"username":…,"password":…,"email":…}` with empty fields left out, in Go's string escaping.
/// Example: user/password → `a55436fc140d516560d072c5fe8700385ce9f41629abf65c1edcbcb39fac691d`.
public enum CredentialHash {
  /// Lower-case hex SHA-256 of the Go JSON form of `credential`.
  public static func of(_ credential: RegistryCredential) -> String {
    SHA256.hex(hashedJSON(credential))
  }

  /// The bytes that are hashed (never written anywhere: they contain the password).
  static func hashedJSON(_ credential: RegistryCredential) -> [UInt8] {
    var object = JSONObject()
    if !credential.username.isEmpty { object["username"] = .string(credential.username) }
    if !credential.password.isEmpty { object["password"] = .string(credential.password) }
    if !credential.email.isEmpty { object["email"] = .string(credential.email) }
    return GoJSON.encode(.object(object))
  }

  /// Hex SHA-256 of a string's UTF-8 bytes: the record file name of a key (`sha256-<this>`).
  public static func sha256Hex(_ text: String) -> String {
    SHA256.hex(Array(text.utf8))
  }
}
