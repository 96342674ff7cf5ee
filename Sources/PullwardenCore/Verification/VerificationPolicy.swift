/// The kubelet's `imagePullCredentialsVerificationPolicy` values.
public enum VerificationPolicy: String, CaseIterable, Sendable {
  /// Never verify: any pod may use any image on the node.
  case neverVerify = "NeverVerify"
  /// Verify only images the kubelet pulled (a record or an intent exists); the kubelet's default.
  case neverVerifyPreloadedImages = "NeverVerifyPreloadedImages"
  /// Verify every image except those matching `preloadedImagesVerificationAllowlist`.
  case neverVerifyAllowlistedImages = "NeverVerifyAllowlistedImages"
  /// Verify every image.
  case alwaysVerify = "AlwaysVerify"

  public static let `default` = VerificationPolicy.neverVerifyPreloadedImages

  /// Parses a policy name (case-sensitive, as the kubelet's config is).
  public static func parse(_ text: String) throws(PullwardenError) -> VerificationPolicy {
    guard let policy = VerificationPolicy(rawValue: text) else {
      var message = "unknown image pull credential verification policy \"\(text)\" (expected \(allCases.map(\.rawValue).joined(separator: ", ")))"
      if let suggestion = closestMatch(to: text, in: allCases.map(\.rawValue)) { message += "; did you mean \"\(suggestion)\"?" }
      throw PullwardenError(.config, message, at: "--policy")
    }
    return policy
  }
}

/// Which kubelet release's image-name rules apply. Two things changed in 1.36 (PR #137629):
/// `trimImageTagDigest` stopped normalizing names, which changes `credentialMapping` keys and the
/// image the allowlist is matched against, and the allowlist started accepting familiar names.
public enum KubeletRules: String, Sendable, CaseIterable {
  /// Kubelets 1.33 to 1.35: image names are normalized (`nginx:1` → `docker.io/library/nginx`); the
  /// allowlist is matched against the raw pod image string, tag included, and its plain entries must
  /// be normalized names.
  case normalizedNames = "1.35"
  /// Kubelets 1.36 and later: image names lose tag and digest but are not normalized (`nginx:1` →
  /// `nginx`); the allowlist is matched against that name and accepts familiar names.
  case familiarNames = "1.36"

  /// The rules of kubelet `version` ("1.33", "1.35", "1.36", "v1.37.2", ...).
  public static func forKubelet(_ version: String) throws(PullwardenError) -> KubeletRules {
    var text = Substring(version)
    if text.hasPrefix("v") { text = text.dropFirst() }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }),
      let major = Int(parts[0]), let minor = Int(parts[1]), major == 1
    else {
      throw PullwardenError(.config, "invalid kubelet version \"\(version)\" (expected e.g. 1.35 or 1.36)", at: "--kubelet-version")
    }
    if minor < 33 {
      throw PullwardenError(.config, "kubelet \(version) keeps no pull records (they start with 1.33)", at: "--kubelet-version")
    }
    return minor >= 36 ? .familiarNames : .normalizedNames
  }

  /// The default: the newest released behaviour.
  public static let `default` = KubeletRules.familiarNames

  /// The kubelet's `trimImageTagDigest(image)`: the `credentialMapping` key for a pod image.
  public func imageName(_ image: String) throws(ImageReference.ParseError) -> String {
    let reference = try ImageReference(parsing: image)
    switch self {
    case .normalizedNames:
      return reference.name
    case .familiarNames:
      return try Self.trimTagAndDigest(image)
    }
  }

  /// Strips `@digest` and a `:tag` after the last `/`, without normalizing (1.36).
  static func trimTagAndDigest(_ image: String) throws(ImageReference.ParseError) -> String {
    var name = Substring(image)
    if let at = name.firstIndex(of: "@") { name = name[..<at] }
    if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") { name = name[..<colon] }
    if name.isEmpty || name.hasSuffix("/") {
      throw ImageReference.ParseError(reason: "\"\(image)\" has no image name before its tag or digest")
    }
    return String(name)
  }
}

/// `preloadedImagesVerificationAllowlist`, validated as the kubelet validates it.
///
/// A pattern is either an image name (matched exactly) or a prefix ending in `/*` (matched by string
/// prefix, the `*` dropped, the `/` kept), from a registry host (`registry.io/*`) down to a
/// repository path (`registry.io/team/*`). Nothing else may contain `*`; tags, digests, surrounding
/// white space and an empty pattern are refused.
public struct ImageAllowlist: Sendable {
  public private(set) var absolute: Set<String> = []
  public private(set) var prefixes: [String] = []
  public let rules: KubeletRules

  public init(_ patterns: [String], rules: KubeletRules) throws(PullwardenError) {
    self.rules = rules
    for pattern in patterns {
      let (text, isWildcard) = try Self.parse(pattern, rules: rules)
      if isWildcard {
        prefixes.append(text)
      } else {
        absolute.insert(text)
      }
    }
  }

  /// The kubelet's `getAllowlistImagePattern`.
  static func parse(_ pattern: String, rules: KubeletRules) throws(PullwardenError) -> (String, Bool) {
    func invalid(_ why: String) -> PullwardenError {
      PullwardenError(.config, "invalid allowlist pattern \"\(pattern)\": \(why)", at: "--allowlist")
    }
    if pattern != pattern.trimmingASCIIWhitespace() { throw invalid("leading/trailing spaces are not allowed") }
    let isWildcard = pattern.hasSuffix("/*")
    let trimmed = isWildcard ? String(pattern.dropLast()) : pattern
    if trimmed.isEmpty { throw invalid("the supplied pattern is too short") }
    if trimmed.contains("*") { throw invalid("not a valid wildcard pattern, only patterns ending with '/*' are allowed") }
    if isWildcard {
      if trimmed.utf8.count == 1 { throw invalid("at least registry hostname is required") }
      return (trimmed, true)
    }
    let reference: ImageReference
    do {
      reference = try ImageReference(parsing: trimmed)
    } catch {
      throw invalid("failed to parse as an image name: \(error)")
    }
    switch rules {
    case .normalizedNames:
      if trimmed != reference.name {
        var why = "neither tag nor digest is accepted in an image reference"
        if reference.tag == nil && reference.digest == nil {
          why += " (kubelets before 1.36 also require the normalized name, \"\(reference.name)\")"
        }
        throw invalid(why)
      }
    case .familiarNames:
      if reference.tag != nil || reference.digest != nil {
        throw invalid("neither tag nor digest is accepted in an image reference")
      }
    }
    return (trimmed, false)
  }

  /// Whether the pod image `image` is allowlisted. Before 1.36 the raw image string is compared (so
  /// an exact entry never matches a tagged image); from 1.36 its name without tag and digest is.
  public func matches(_ image: String) -> Bool {
    let subject: String
    switch rules {
    case .normalizedNames:
      subject = image
    case .familiarNames:
      guard let name = try? KubeletRules.trimTagAndDigest(image) else { return false }
      subject = name
    }
    if absolute.contains(subject) { return true }
    return prefixes.contains { subject.hasPrefix($0) }
  }
}

/// The kubelet's `ImagePullPolicyEnforcer`: does an image need its pod's credentials verified?
public struct CredentialVerificationPolicy: Sendable {
  public let policy: VerificationPolicy
  public let allowlist: ImageAllowlist

  public init(_ policy: VerificationPolicy, allowlist patterns: [String] = [], rules: KubeletRules = .default)
    throws(PullwardenError)
  {
    if !patterns.isEmpty && policy != .neverVerifyAllowlistedImages {
      throw PullwardenError(
        .config, "--allowlist is only used by policy NeverVerifyAllowlistedImages, not \(policy.rawValue)", at: "--allowlist")
    }
    self.policy = policy
    allowlist = try ImageAllowlist(patterns, rules: rules)
  }

  /// `RequireCredentialVerificationForImage(image, imagePulledByKubelet)`. The allowlist policy
  /// ignores whether the kubelet pulled the image, as the kubelet does.
  public func requiresVerification(image: String, pulledByKubelet: Bool) -> Bool {
    switch policy {
    case .neverVerify: return false
    case .neverVerifyPreloadedImages: return pulledByKubelet
    case .neverVerifyAllowlistedImages: return !allowlist.matches(image)
    case .alwaysVerify: return true
    }
  }
}
