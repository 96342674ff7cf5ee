import Testing

@testable import PullwardenCore

/// The credential hash must equal the kubelet's `hashAuthConfig` (SHA-256 of Go's
/// `json.Marshal(AuthConfig)`) byte for byte, or no pod could ever match a record by hash.
@Suite struct CredentialHashTests {
  /// The kubelet's own vector (secrets_test.go): a dockerconfigjson with auth "user:password".
  @Test func kubeletTestVector() {
    let credential = RegistryCredential(username: "user", password: "password")
    #expect(text(CredentialHash.hashedJSON(credential)) == #"{"username":"user","password":"password"}"#)
    #expect(CredentialHash.of(credential) == "a55436fc140d516560d072c5fe8700385ce9f41629abf65c1edcbcb39fac691d")
  }

  /// Go escapes <, > and & (HTML-safe output) where jansson would not.
  @Test func htmlCharactersAreEscapedLikeGo() {
    let credential = RegistryCredential(username: "user", password: "p<a>s&s")
    #expect(text(CredentialHash.hashedJSON(credential)) == #"{"username":"user","password":"p\u003ca\u003es\u0026s"}"#)
    #expect(CredentialHash.of(credential) == "7c7237b80b8a256c1feb972975c6dd9c0144fe8799bfffdc74573ff7bcd9b9f8")
    let admin = RegistryCredential(username: "<admin>", password: "&")
    #expect(CredentialHash.of(admin) == "802232f5014fef8b5a012329c0d4e66ee4a8ed7674da0d334c131ca7a119db96")
  }

  /// Non-ASCII text is written as raw UTF-8, including 4-byte characters.
  @Test func nonASCIIIsRawUTF8() {
    let credential = RegistryCredential(username: "jürgen", password: "pässwörd✓🔑")
    #expect(text(CredentialHash.hashedJSON(credential)) == #"{"username":"jürgen","password":"pässwörd✓🔑"}"#)
    #expect(CredentialHash.of(credential) == "b8450f2ddd941817afe7758f419d4ebf397205b3a82210f3c217a556dafe106e")
  }

  /// Quote, backslash, the short escapes Go uses since 1.22 (\b \f \n \r \t), \u00XX for other
  /// control characters, DEL and "/" unescaped, U+2028 and U+2029 escaped.
  @Test func controlAndSeparatorCharactersLikeGo() {
    let password = "q\"b\\n\nr\rt\tb\u{8}f\u{C}c\u{1}d\u{7F}ls\u{2028}ps\u{2029}/x"
    let credential = RegistryCredential(username: "u", password: password)
    #expect(text(CredentialHash.hashedJSON(credential)) == #"{"username":"u","password":"q\"b\\n\nr\rt\tb\bf\fc\u0001d"# + "\u{7F}" + #"ls\u2028ps\u2029/x"}"#)
    #expect(CredentialHash.of(credential) == "e1079cedeacec94a77277862a9f8f490f1b4f9d3b2954fbbf45d364359b18934")
  }

  /// Every AuthConfig field is omitempty; email is part of the hash when a docker config has one.
  @Test func emptyFieldsAreOmittedAndEmailCounts() {
    #expect(CredentialHash.of(RegistryCredential(username: "u", password: "p", email: "u@example.com"))
      == "341db71e3f9872ac6bd9c9b3ae3515a714df7c8ae2c0e7e96ee02063921d4c4e")
    #expect(text(CredentialHash.hashedJSON(RegistryCredential(username: "", password: "token"))) == #"{"password":"token"}"#)
    #expect(CredentialHash.of(RegistryCredential(username: "", password: "token")) == "e2b1a0c217e020c13b6c1d8c4613ae16d57bc90d64c571073e52eda6b7198c4f")
    #expect(CredentialHash.of(RegistryCredential(username: "", password: "")) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
  }

  /// The same credential from a docker `auth` field and from username/password fields hashes the same.
  @Test func authFieldAndSeparateFieldsHashTheSame() throws {
    let document = Document(
      name: "t", kind: .source,
      root: try JSON.parse(#"{"auths":{"a.io":{"auth":"dXNlcjpwYXNzd29yZA=="},"b.io":{"username":"user","password":"password"}}}"#.bytes, document: "t", kind: .source))
    let entries = try DockerConfig.parse(document, format: nil).entries
    #expect(entries.map { CredentialHash.of($0.credential) } == Array(repeating: "a55436fc140d516560d072c5fe8700385ce9f41629abf65c1edcbcb39fac691d", count: 2))
  }

  @Test func recordFileNamesAreTheKubeletVectors() {
    #expect(RecordStore.fileName(forKey: "docker.io/hello-world:latest") == "sha256-9f023ac6b143be2e542ca832efa4f162392e3f88c6e9e77b149398d19e2ad1e2")
    #expect(
      RecordStore.fileName(forKey: "sha256:d2c94e258dcb3c5ac2798d32e1249e42ef01cba4841c2234249495f87264ac5a")
        == "sha256-8a24326ac510759b13cce8f02faf7d4f3b2653d5945e75a75be71d878f56a84e")
    #expect(RecordStore.fileName(forKey: "testimageref").hasPrefix("sha256-b3c0cc42"))
    #expect(RecordStore.fileName(forKey: "repo.repo/test/test:latest").hasPrefix("sha256-7d8c031e"))
  }

  @Test func goJSONWritesObjectsInMemberOrder() {
    let value: JSONValue = .object(["b": .array([.null, .bool(false), .integer(-2)]), "a": .object([:])])
    #expect(text(GoJSON.encode(value)) == #"{"b":[null,false,-2],"a":{}}"#)
  }

  private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
