import Testing

@testable import PullwardenCore

/// The JWT payload reader: claims, expiry, and errors that never include the token.
@Suite struct ServiceAccountTokenTests {
  let now = Timestamp(secondsSinceEpoch: 1_700_000_000)

  @Test func readsKubernetesClaims() throws {
    let text = serviceAccountJWT(expires: 1_700_003_600)
    let token = try ServiceAccountToken(text, now: now)
    #expect(token.coordinates == ServiceAccountCoordinates(namespace: "team-a", name: "builder", uid: "uid-1"))
    #expect(token.expiresAt == Timestamp(secondsSinceEpoch: 1_700_003_600))
    #expect(token.audiences == ["registry.example.com"])
    #expect(token.issuer == "https://kubernetes.default.svc")
    #expect(token.podName == "app-0")
    #expect(token.text == text)
  }

  @Test func acceptsSingleAudienceStringAndFractionalExpiry() throws {
    let text = serviceAccountJWT(expires: 0, audience: .string("sts.example.com"), extra: [("exp", .real(1_700_000_100.5))])
    let token = try ServiceAccountToken(text, now: now)
    #expect(token.audiences == ["sts.example.com"])
    #expect(token.expiresAt == Timestamp(nanosecondsSinceEpoch: 1_700_000_100_500_000_000))
  }

  @Test(arguments: [
    ("abc", "is not a JWT (expected three base64url parts separated by dots)"),
    ("a.b", "is not a JWT"),
    ("a.b.c.d.e", "is an encrypted JWT (JWE)"),
    ("e30.!!!.sig", "has a payload that is not base64url"),
    ("e30.bm90IGpzb24.sig", "has a payload that is not JSON"),
    ("e30.WzFd.sig", "has a payload that is not a JSON object"),
  ])
  func refusesWhatIsNotAJWT(text: String, fragment: String) {
    expectError(.request, containing: ["serviceAccountToken " + fragment, "(stdin, at serviceAccountToken)"]) {
      _ = try ServiceAccountToken(text, now: now)
    }
  }

  @Test func refusesExpiredTokenNamingTheTimeNotTheToken() {
    let text = serviceAccountJWT(expires: 1_600_000_000)
    do {
      _ = try ServiceAccountToken(text, now: now)
      Issue.record("expected an error")
    } catch {
      #expect(error.description == "serviceAccountToken expired at 2020-09-13T12:26:40Z (stdin, at serviceAccountToken)")
      #expect(!error.description.contains(text.split(separator: ".")[1]))
    }
  }

  @Test func tokenExpiringExactlyNowIsExpired() {
    expectError(.request, containing: ["expired at"]) { _ = try ServiceAccountToken(serviceAccountJWT(expires: 1_700_000_000), now: now) }
  }

  @Test(arguments: [
    serviceAccountJWT(expires: 1_700_003_600, namespace: nil),
    serviceAccountJWT(expires: 1_700_003_600, name: nil),
    serviceAccountJWT(expires: 1_700_003_600, uid: nil),
    serviceAccountJWT(expires: 1_700_003_600, uid: ""),
    jwt(header: [:], claims: ["exp": .integer(1_700_003_600), "sub": .string("someone")]),
  ])
  func refusesTokensWithoutServiceAccountClaims(text: String) {
    expectError(.request, containing: ["lacks the \"kubernetes.io\" claim", "is it a Kubernetes bound service-account token?"]) {
      _ = try ServiceAccountToken(text, now: now)
    }
  }

  @Test func refusesMissingOrMalformedExpiry() {
    expectError(.request, containing: ["has no \"exp\" claim"]) {
      _ = try ServiceAccountToken(jwt(header: [:], claims: ["sub": .string("x")]), now: now)
    }
    expectError(.request, containing: ["\"exp\" claim that is not a number of seconds"]) {
      _ = try ServiceAccountToken(jwt(header: [:], claims: ["exp": .string("tomorrow")]), now: now)
    }
  }

  @Test func refusesSubjectThatDisagreesWithTheClaims() {
    let text = serviceAccountJWT(expires: 1_700_003_600, subject: "system:serviceaccount:other:builder")
    expectError(.request, containing: ["\"sub\" claim that does not name the service account"]) {
      _ = try ServiceAccountToken(text, now: now)
    }
  }
}
