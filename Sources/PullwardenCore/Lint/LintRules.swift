/// A container's `imagePullPolicy`.
public enum PullPolicy: String, Sendable {
  case always = "Always"
  case ifNotPresent = "IfNotPresent"
  case never = "Never"

  /// What the API server sets when a container gives none (SetDefaults_Container): Always when the
  /// tag is `latest`, which is also what an image with neither tag nor digest means
  /// (parsers.ParseImageName); IfNotPresent otherwise, so a digest alone gives IfNotPresent but
  /// `:latest@sha256:…` still gives Always.
  public static func kubernetesDefault(for image: ImageReference) -> PullPolicy {
    let tag = image.tag ?? (image.digest == nil ? "latest" : nil)
    return tag == "latest" ? .always : .ifNotPresent
  }
}

/// The pull-policy risks `pullwarden lint` reports (docs/lint.md has one section per rule).
public enum LintRule: String, CaseIterable, Sendable {
  case latestTagWithoutPolicy = "latest-tag-without-policy"
  case alwaysOnDigest = "always-on-digest"
  case privateImageWithoutCredentials = "private-image-without-credentials"

  /// One sentence, for SARIF's shortDescription and the README table.
  public var summary: String {
    switch self {
    case .latestTagWithoutPolicy:
      return "An image with the latest tag or no tag, and no imagePullPolicy: Kubernetes defaults it to Always."
    case .alwaysOnDigest:
      return "imagePullPolicy Always (set, or defaulted by a latest tag) on a digest-pinned image: a registry round-trip on every start for nothing."
    case .privateImageWithoutCredentials:
      return "IfNotPresent or Never on a private-registry image with no imagePullSecrets and no configured source serving it."
    }
  }

  /// Where the rule is explained: docs/lint.md's section for it.
  public var helpURI: String { "docs/lint.md#\(rawValue)" }
}

/// Registries that serve public images, which the private-image rule leaves alone. They also host
/// private repositories (Docker Hub, Quay, GHCR); only imagePullSecrets or a source in `--config`
/// tell those apart, which docs/lint.md says.
public enum PublicRegistries {
  public static let patterns: [String] = [
    "docker.io", "registry.k8s.io", "k8s.gcr.io", "gcr.io/distroless", "public.ecr.aws", "mcr.microsoft.com", "quay.io",
    "ghcr.io",
  ]
  static let parsed: [ImagePattern] = patterns.map { try! ImagePattern(parsing: $0) }

  public static func contains(_ image: ImageReference) -> Bool {
    let location = URLLocation(image.name)
    return parsed.contains { $0.matches(location) }
  }
}

/// One finding: a rule, what is wrong in words, and where.
public struct LintFinding: Sendable {
  public var rule: LintRule
  public var message: String
  public var container: ManifestContainer
  /// The reported position: the `imagePullPolicy` value when that is what is wrong, else `image`.
  public var line: Int?
  public var column: Int?
  /// Silenced by the ignore annotation: counted and listed as suppressed, not failing the run.
  public var suppressed: Bool
}

/// The rules, applied to one container.
public struct LintRules: Sendable {
  /// Sources that could give the image credentials; nil when lint runs without `--config`.
  public var config: PullwardenConfig?

  public init(config: PullwardenConfig?) { self.config = config }

  /// Names of the sources whose matchImages match `image` (nil without a config).
  public func servingSources(_ image: ImageReference) -> [String]? {
    let location = URLLocation(image.name)
    return config.map { config in config.sources.filter { $0.common.serves(location) }.map(\.common.name) }
  }

  /// The findings for `container`, whose image parsed as `image`.
  ///
  /// - Parameter accountHasPullSecrets: whether a ServiceAccount in the input gives the pod's
  ///   service account imagePullSecrets.
  public func check(_ container: ManifestContainer, image: ImageReference, accountHasPullSecrets: Bool = false) -> [LintFinding] {
    let explicit = container.imagePullPolicy.flatMap(PullPolicy.init(rawValue:))
    let defaulted = PullPolicy.kubernetesDefault(for: image)
    let effective = explicit ?? defaulted
    // Message parts are built only for a finding: most containers have none.
    var shown: String { Escaping.quoted(container.image) }
    var findings: [LintFinding] = []
    func add(_ rule: LintRule, _ message: String, atPolicy: Bool = false) {
      let mark = atPolicy ? container.policyMark ?? container.imageMark : container.imageMark
      findings.append(
        LintFinding(
          rule: rule, message: message, container: container, line: mark?.line, column: mark?.column,
          suppressed: container.ignoredRules.contains(rule.rawValue)))
    }
    var subject: String { container.containerName.map { "container \(quoted: $0): " } ?? "" }

    if explicit == nil, image.digest == nil, image.tag == nil || image.tag == "latest" {
      let what = image.tag == nil ? "has no tag" : "uses the latest tag"
      add(
        .latestTagWithoutPolicy,
        "\(subject)image \(shown) \(what) and no imagePullPolicy: Kubernetes defaults imagePullPolicy to Always, so every start pulls whatever latest is then; pin a tag or digest, or set imagePullPolicy")
    }

    if image.digest != nil, effective == .always {
      if explicit == .always {
        add(
          .alwaysOnDigest,
          "\(subject)imagePullPolicy Always on digest-pinned image \(shown): every start asks the registry for an image that cannot change; use IfNotPresent",
          atPolicy: true)
      } else {
        add(
          .alwaysOnDigest,
          "\(subject)image \(shown) is pinned by digest, but its latest tag makes Kubernetes default imagePullPolicy to Always: a registry round-trip on every start for nothing; drop the tag or set imagePullPolicy: IfNotPresent")
      }
    }

    if effective != .always, !container.hasPullSecrets, !accountHasPullSecrets, !PublicRegistries.contains(image) {
      let served = servingSources(image)
      if served?.isEmpty ?? true {
        let policy =
          explicit != nil
          ? "imagePullPolicy \(effective.rawValue)"
          : "imagePullPolicy IfNotPresent (Kubernetes' default for \(image.tag == nil ? "a digest" : "a tag other than latest"))"
        let credentials =
          config.map { "no source in \($0.path) serves it" }
          ?? "without --config Pullwarden cannot tell whether the node's credential provider serves \(image.domain)"
        add(
          .privateImageWithoutCredentials,
          "\(subject)\(policy) on private image \(shown) with no imagePullSecrets (on the pod, or on its service account \(quoted: container.serviceAccount.name) in the input), and \(credentials): a node that has the image may run it without checking credentials, elsewhere (or under KEP-2535 verification) the pull fails; add imagePullSecrets or a source for \(image.domain)")
      }
    }
    return findings
  }
}
