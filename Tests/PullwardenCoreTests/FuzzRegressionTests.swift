import Testing

@testable import PullwardenCore

/// Inputs found by the fuzz targets (docs/fuzzing.md), byte for byte as minimized, each with the rule
/// it broke. The same files are under Fuzz/Regressions/<Target>/.
@Suite struct FuzzRegressionTests {
  /// FuzzCredentialExpiry: an `expiresAt` with a fraction of a second was kept as is, so the credential
  /// counted for that fraction past the second the file names, and the decoded companion no longer
  /// equalled itself once written back (files hold whole seconds).
  @Test func fractionalExpiryIsCutToItsSecond() throws {
    let input = #"{"kind":"CredentialExpiry","apiVersion":"pullwarden.dev/v1alpha1","credentialMapping":{"":{"kubernetesSecrets":[{"expiresAt":"2200-01-01T00:00:00.1Z"}]}}}"#
    let expiry = try CredentialExpiry.decode(Array(input.utf8), name: "pullwarden-expiry/sha256-x")
    let secret = ImagePullSecret(uid: "", namespace: "", name: "", credentialHash: "")
    let second = try #require(Timestamp(rfc3339: "2200-01-01T00:00:00Z"))
    #expect(expiry.images[""]?.secrets[secret] == second)
    #expect(try CredentialExpiry.decode(expiry.encoded(), name: "re-encoded") == expiry)
    // Within the fraction, the credential no longer counts: it stopped at its second.
    let companion: CredentialExpiry? = expiry
    #expect(companion.state(of: secret, for: "").hasExpired(at: Timestamp(nanosecondsSinceEpoch: second.nanosecondsSinceEpoch + 50_000_000)))
    #expect(!companion.state(of: secret, for: "").hasExpired(at: Timestamp(nanosecondsSinceEpoch: second.nanosecondsSinceEpoch - 1)))
  }

  /// The same rule for the other two times of a companion.
  @Test func nodeAccessAndUpdateTimesAreCutToTheirSecond() throws {
    let input = #"{"kind":"CredentialExpiry","apiVersion":"pullwarden.dev/v1alpha1","lastUpdatedTime":"2024-01-01T00:00:00.999999999Z","imageRef":"r","credentialMapping":{"a":{"nodePodsAccessibleExpiresAt":"1969-12-31T23:59:59.5Z"}}}"#
    let expiry = try CredentialExpiry.decode(Array(input.utf8), name: "t")
    #expect(expiry.lastUpdatedTime == Timestamp(rfc3339: "2024-01-01T00:00:00Z"))
    // Before 1970 too the second is the one written, not the next one.
    #expect(expiry.images["a"]?.nodePodsAccessible == Timestamp(secondsSinceEpoch: -1))
    #expect(try CredentialExpiry.decode(expiry.encoded(), name: "re-encoded") == expiry)
  }
}
