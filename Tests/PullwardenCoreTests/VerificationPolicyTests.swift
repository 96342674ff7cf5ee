import Testing

@testable import PullwardenCore

/// The kubelet's policy enforcers (image_pull_policies_test.go, spec §9.2). Rows differ between
/// kubelet 1.33–1.35 and 1.36+ (PR #137629); each test names the release it pins.
@Suite struct VerificationPolicyTests {
  private func policy(_ patterns: [String], _ rules: KubeletRules) throws -> CredentialVerificationPolicy {
    try CredentialVerificationPolicy(.neverVerifyAllowlistedImages, allowlist: patterns, rules: rules)
  }

  @Test func neverVerifyPreloadedFollowsWhetherTheKubeletPulled() throws {
    let enforcer = try CredentialVerificationPolicy(.neverVerifyPreloadedImages)
    #expect(!enforcer.requiresVerification(image: "test-image:sometag", pulledByKubelet: false))
    #expect(enforcer.requiresVerification(image: "test-image:sometag", pulledByKubelet: true))
    #expect(!(try CredentialVerificationPolicy(.neverVerify)).requiresVerification(image: "x", pulledByKubelet: true))
    #expect(try CredentialVerificationPolicy(.alwaysVerify).requiresVerification(image: "x", pulledByKubelet: false))
  }

  /// TestNewNeverVerifyAllowListedPullPolicy rows; 1.33–1.35 tested a tagless image, 1.36 `…:tag`.
  @Test(arguments: [(KubeletRules.normalizedNames, "test.io/test/test-image"), (.familiarNames, "test.io/test/test-image:tag")])
  func allowlistTable(rules: KubeletRules, image: String) throws {
    for pulled in [false, true] {
      let notListed = try policy(["test.io/test/image1", "test.io/test/image3", "test.io/test/image2", "test.io/test/image3"], rules)
      #expect(notListed.allowlist.absolute.count == 3)
      #expect(notListed.requiresVerification(image: image, pulledByKubelet: pulled))

      // The allowlist ignores whether the kubelet pulled the image.
      let listed = try policy(["test.io/test/image1", "test.io/test/image2", "test.io/test/test-image", "test.io/test/image3"], rules)
      #expect(listed.allowlist.absolute.count == 4)
      #expect(!listed.requiresVerification(image: image, pulledByKubelet: pulled))
    }
    let otherRepo = try policy(["test.io/test/image1", "test.io/test/image2", "different.repo/test/*"], rules)
    #expect(otherRepo.allowlist.prefixes == ["different.repo/test/"])
    #expect(otherRepo.requiresVerification(image: image, pulledByKubelet: false))
    #expect(!(try policy(["test.io/test/image1", "test.io/test/image2", "test.io/test/*"], rules)).requiresVerification(image: image, pulledByKubelet: false))
    #expect(!(try policy(["test.io/test/image1", "test.io/test/image2", "test.io/*"], rules)).requiresVerification(image: image, pulledByKubelet: false))
  }

  @Test(arguments: KubeletRules.allCases, [
    ("image.repo/pokus*/imagename", "only patterns ending with '/*' are allowed"),
    ("image.repo/pokus*", "only patterns ending with '/*' are allowed"),
    ("image.repo/*/imagename", "only patterns ending with '/*' are allowed"),
    ("/*", "at least registry hostname is required"),
    ("image.repo/", "failed to parse as an image name"),
    ("", "the supplied pattern is too short"),
    ("*", "only patterns ending with '/*' are allowed"),
    ("test.io/test/image1:tagged", "neither tag nor digest is accepted"),
    ("test.io/test/image1@sha256:38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd", "neither tag nor digest is accepted"),
    ("test.io/test/image1 ", "leading/trailing spaces are not allowed"),
  ])
  func invalidAllowlistPatterns(rules: KubeletRules, row: (String, String)) {
    expectError(.config, containing: ["invalid allowlist pattern \"\(row.0)\"", row.1, "--allowlist"]) { _ = try policy([row.0], rules) }
  }

  /// Pinned to 1.36+: familiar names are compared literally after trimming tag and digest.
  @Test func kubelet136FamiliarNames() throws {
    let rules = KubeletRules.familiarNames
    #expect(try policy(["docker.io/library/ubuntu"], rules).requiresVerification(image: "ubuntu", pulledByKubelet: false))
    #expect(try policy(["docker.io/library/*"], rules).requiresVerification(image: "ubuntu", pulledByKubelet: false))
    let familiar = try policy(["ubuntu"], rules)
    for image in ["ubuntu", "ubuntu:tagged", "ubuntu@sha256:38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd"] {
      #expect(!familiar.requiresVerification(image: image, pulledByKubelet: false), "\(image)")
    }
  }

  /// Pinned to 1.33–1.35: plain entries must be normalized names, and are compared with the raw
  /// pod image, tag included, so they never match a tagged image; wildcards match by prefix.
  @Test func kubelet135NormalizedNamesAndRawImages() throws {
    let rules = KubeletRules.normalizedNames
    expectError(.config, containing: ["neither tag nor digest", "\"docker.io/library/ubuntu\""]) { _ = try policy(["ubuntu"], rules) }
    let absolute = try policy(["docker.io/library/ubuntu"], rules)
    #expect(!absolute.requiresVerification(image: "docker.io/library/ubuntu", pulledByKubelet: true))
    #expect(absolute.requiresVerification(image: "docker.io/library/ubuntu:22.04", pulledByKubelet: true))
    #expect(absolute.requiresVerification(image: "ubuntu", pulledByKubelet: true))
    let wildcard = try policy(["docker.io/library/*"], rules)
    #expect(!wildcard.requiresVerification(image: "docker.io/library/ubuntu:22.04", pulledByKubelet: true))
    #expect(wildcard.requiresVerification(image: "ubuntu", pulledByKubelet: true))
  }

  @Test func allowlistOnlyGoesWithItsPolicy() {
    expectError(.config, containing: ["--allowlist is only used by policy NeverVerifyAllowlistedImages"]) {
      _ = try CredentialVerificationPolicy(.alwaysVerify, allowlist: ["a.io/*"])
    }
  }

  @Test func policyNamesAreCaseSensitiveWithSuggestions() throws {
    #expect(try VerificationPolicy.parse("AlwaysVerify") == .alwaysVerify)
    expectError(.config, containing: ["unknown image pull credential verification policy \"alwaysverify\"", "did you mean \"AlwaysVerify\""]) {
      _ = try VerificationPolicy.parse("alwaysverify")
    }
  }

  @Test func kubeletVersions() throws {
    #expect(try KubeletRules.forKubelet("1.33") == .normalizedNames)
    #expect(try KubeletRules.forKubelet("v1.35.2") == .normalizedNames)
    #expect(try KubeletRules.forKubelet("1.36") == .familiarNames)
    #expect(try KubeletRules.forKubelet("1.40.0") == .familiarNames)
    expectError(.config, containing: ["keeps no pull records"]) { _ = try KubeletRules.forKubelet("1.32") }
    expectError(.config, containing: ["invalid kubelet version"]) { _ = try KubeletRules.forKubelet("latest") }
  }

  /// TestTrimImageTagDigest (1.36+), and the normalized names of 1.33–1.35.
  @Test(arguments: [
    ("myimage", "myimage", "docker.io/library/myimage"),
    ("myimage:latest", "myimage", "docker.io/library/myimage"),
    ("myimage@sha256:38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd", "myimage", "docker.io/library/myimage"),
    ("myimage:v1@sha256:38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd", "myimage", "docker.io/library/myimage"),
    ("registry.io/myimage:v1.0", "registry.io/myimage", "registry.io/myimage"),
    ("registry.io/myorg/myimage:v2@sha256:38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd", "registry.io/myorg/myimage", "registry.io/myorg/myimage"),
    ("registry.io/a/b/c/myimage:latest", "registry.io/a/b/c/myimage", "registry.io/a/b/c/myimage"),
    ("localhost:5000/myimage:v1", "localhost:5000/myimage", "localhost:5000/myimage"),
    ("myregistry:5000/myorg/myimage:v1", "myregistry:5000/myorg/myimage", "myregistry:5000/myorg/myimage"),
    ("docker.io/taghere/image:taghere", "docker.io/taghere/image", "docker.io/taghere/image"),
    ("secretorg/myimage:customtag", "secretorg/myimage", "docker.io/secretorg/myimage"),
    (
      "registry.io/38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd/myorg/image@sha256:38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd",
      "registry.io/38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd/myorg/image",
      "registry.io/38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd/myorg/image"
    ),
  ])
  func imageNames(image: String, familiar: String, normalized: String) throws {
    #expect(try KubeletRules.familiarNames.imageName(image) == familiar)
    #expect(try KubeletRules.normalizedNames.imageName(image) == normalized)
  }

  @Test(arguments: ["registry.io/myorg/", "registry.io/myorg/:tag", "registry.io/myorg/@sha256:38a8906435c4dd5f4258899d46621bfd8eea3ad6ff494ee3c2f17ef0321625bd"])
  func invalidImageNames(image: String) {
    for rules in KubeletRules.allCases {
      #expect(throws: ImageReference.ParseError.self) { _ = try rules.imageName(image) }
    }
  }
}
