import Testing

@testable import PullwardenCore

@Suite("Response keys: one credential, and several sharing a key")
struct AuthKeysTests {
  static func supplied(_ key: String, _ username: String) -> SuppliedCredential {
    SuppliedCredential(
      key: RegistryKey(normalizing: key)!, credential: RegistryCredential(username: username, password: username + "-pw"),
      origin: CredentialOrigin(secret: SecretCoordinates(namespace: "team", name: username, uid: "uid-" + username), serviceAccount: nil),
      sourceName: "test")
  }

  @Test func aSingleCredentialKeepsItsKey() {
    let assignment = AuthKeys.assign([Self.supplied("quay.io/team", "a")])
    #expect(assignment.auth.map(\.key) == ["quay.io/team"])
    #expect(assignment.auth.map(\.credential.username) == ["a"])
    #expect(assignment.supplied.map(\.kubeletKey) == ["quay.io/team"])
    #expect(assignment.supplied.map(\.credential.credential.username) == ["a"])
    #expect(assignment.repeats.isEmpty)
  }

  @Test func sharedKeysGetAliasesAndKeysGoInReverseByteOrder() {
    let assignment = AuthKeys.assign([
      Self.supplied("quay.io", "a"), Self.supplied("quay.io/team", "b"), Self.supplied("quay.io", "c"),
      Self.supplied("quay.io", "a"),
    ])
    #expect(assignment.auth.map(\.key) == ["quay.io/team", "quay.io", "quay.io#2"])
    #expect(assignment.auth.map(\.credential.username) == ["b", "a", "c"])
    #expect(assignment.supplied.map(\.kubeletKey) == ["quay.io/team", "quay.io", "quay.io"])
    #expect(assignment.repeats.map(\.credential.username) == ["a"])
  }
}
