/// `pullwarden audit`: for every container of every pod, what each verification policy would decide
/// for its image on this node, and whether the pod keeps working, must re-pull with credentials it
/// holds, or would fail. The decisions are the verifier's (`PullVerifier.decide`, as `verify --batch`
/// makes them, records read once and remembered); this file only finds the questions to ask and sorts
/// the answers.
public struct AuditOptions: Sendable {
  public var recordsDirectory: String
  /// Patterns of `NeverVerifyAllowlistedImages` (the other policies take none).
  public var allowlist: [String] = []
  public var rules: KubeletRules = .default
  /// Only pods scheduled to this node (`spec.nodeName`) are audited, for a cluster-wide pod list.
  public var node: String?

  public init(recordsDirectory: String) {
    self.recordsDirectory = recordsDirectory
  }
}

/// What happens to a container's image when the kubelet next starts it under a policy.
public enum AuditOutcome: String, Sendable, CaseIterable {
  /// The verifier lets the pod use the image on the node.
  case keepsWorking
  /// The kubelet must re-pull (re-verify) and the pod holds credentials for the image.
  case rePullWithCredentials
  /// The kubelet must re-pull and the pod holds no credentials for it (or its pull policy is Never).
  case wouldFail
  /// `imagePullPolicy: Always`: pulled on every start whatever the policy.
  case pullsAnyway
  /// The image is not on the node (`--images`): it is pulled when needed whatever the policy.
  case notOnNode
  /// No record names the image and no `--images` says whether it is on the node.
  case notRecorded

  /// Whether the policy changes anything for the container.
  public var isAffected: Bool {
    switch self {
    case .keepsWorking, .rePullWithCredentials, .wouldFail: return true
    case .pullsAnyway, .notOnNode, .notRecorded: return false
    }
  }

  /// Worse outcomes rank higher; a pod takes its worst container's.
  var severity: Int {
    switch self {
    case .wouldFail: return 4
    case .rePullWithCredentials: return 3
    // Unknown ranks above "keeps working": an image nobody recorded may be a preloaded one that
    // AlwaysVerify makes the pod re-pull.
    case .notRecorded: return 2
    case .keepsWorking: return 1
    case .pullsAnyway, .notOnNode: return 0
    }
  }

  public var label: String {
    switch self {
    case .keepsWorking: return "keeps working"
    case .rePullWithCredentials: return "re-pull with credentials"
    case .wouldFail: return "would fail"
    case .pullsAnyway: return "not affected (pulls anyway)"
    case .notOnNode: return "not affected (not on node)"
    case .notRecorded: return "unknown (not recorded)"
    }
  }
}

/// How a container's image was tied to the records.
public enum AuditMatching: String, Sendable, CaseIterable {
  /// Through `crictl images -o json` (`--images`): the image's runtime ID, the kubelet's record key.
  case runtimeImages = "images"
  /// Through the image names in the records' `credentialMapping` (no `--images`; kubelet records).
  case recordNames
  /// Pullwarden's own records are keyed by the image name: no runtime ID is needed.
  case imageName
  /// Not matched: `imagePullPolicy: Always` (never checked by the kubelet).
  case none

  public var label: String {
    switch self {
    case .runtimeImages: return "crictl images"
    case .recordNames: return "record names"
    case .imageName: return "image name"
    case .none: return "not matched (imagePullPolicy Always)"
    }
  }

  /// The run's matching, for the report's header.
  public var explanation: String {
    switch self {
    case .runtimeImages: return "crictl images (--images): each image resolved to its runtime image ID, as the kubelet does"
    case .recordNames:
      return "record names (no --images): images found through the image names in the records' credentialMapping; an image no record names may still be on the node"
    case .imageName: return "image name (Pullwarden's records are keyed by it; no --images, so an image no record names may still be on the node)"
    case .none: return "none"
    }
  }
}

/// One container's audit.
public struct AuditedContainer: Sendable {
  public struct Verdict: Sendable {
    public var policy: VerificationPolicy
    public var decision: PullDecision?
    public var outcome: AuditOutcome
    /// Why that outcome, one sentence.
    public var why: String
  }

  public var container: AuditContainer
  public var matching: AuditMatching
  /// The runtime image IDs the decision used (kubelet records); several when record names match more than one.
  public var imageRefs: [String]
  /// true: on the node; false: not (per `--images`); nil: unknown.
  public var onNode: Bool?
  public var matchNote: String
  /// The pod's tracked credentials for this image (one per matching registry entry of each pull Secret).
  public var podSecrets: [ImagePullSecret]
  public var podServiceAccount: ImagePullServiceAccount?
  /// `--config` sources whose matchImages cover the image, as "name (type)".
  public var configSources: [String]
  public var holdsCredentials: Bool
  public var verdicts: [Verdict]
}

/// One pod's audit.
public struct AuditedPod: Sendable {
  public var pod: AuditPod
  public var containers: [AuditedContainer]

  /// The pod's outcome under `policy`: its worst container's.
  public func outcome(_ policy: VerificationPolicy) -> AuditOutcome {
    var worst: AuditOutcome?
    for container in containers {
      guard let verdict = container.verdicts.first(where: { $0.policy == policy }) else { continue }
      if worst == nil || verdict.outcome.severity > worst!.severity { worst = verdict.outcome }
    }
    return worst ?? .pullsAnyway
  }
}

/// Everything the audit found.
public struct AuditReport: Sendable {
  public var recordsDirectory: String
  /// "kubelet" (image_manager, keyed by image ID) or "pullwarden" (keyed by image name).
  public var recordsLayout: String
  public var matching: AuditMatching
  public var rules: KubeletRules
  public var allowlist: [String]
  public var pods: [AuditedPod]
  /// Pods left out because `AuditOptions.node` names another node.
  public var podsOnOtherNodes = 0
  public var warnings: [String]

  public struct Counts: Sendable, Equatable {
    public var keepsWorking = 0, rePullWithCredentials = 0, wouldFail = 0, notAffected = 0, notRecorded = 0
  }

  /// Pods per outcome under `policy` (`pullsAnyway` and `notOnNode` count as `notAffected`).
  public func summary(_ policy: VerificationPolicy) -> Counts {
    var counts = Counts()
    for pod in pods {
      switch pod.outcome(policy) {
      case .keepsWorking: counts.keepsWorking += 1
      case .rePullWithCredentials: counts.rePullWithCredentials += 1
      case .wouldFail: counts.wouldFail += 1
      case .pullsAnyway, .notOnNode: counts.notAffected += 1
      case .notRecorded: counts.notRecorded += 1
      }
    }
    return counts
  }

  /// Containers per matching mode.
  public var matchingCounts: [(AuditMatching, Int)] {
    AuditMatching.allCases.compactMap { mode in
      let count = pods.reduce(0) { $0 + $1.containers.count { $0.matching == mode } }
      return count == 0 ? nil : (mode, count)
    }
  }

  /// Whether some pod would fail under `policy`.
  public func hasBreakage(_ policy: VerificationPolicy) -> Bool {
    pods.contains { $0.outcome(policy) == .wouldFail }
  }
}

/// Runs the audit.
public final class Audit {
  public let options: AuditOptions
  private let store: RecordStore
  private let reader: RecordReader
  private let verifiers: [PullVerifier]
  private let secrets: AuditSecrets?
  private let serviceAccountUIDs: [String: String]?
  private let images: RuntimeImages?
  private let config: PullwardenConfig?
  private var warnings: [String] = []
  /// Image names in the records' credentialMapping → the imageRefs of the records holding them.
  private var recordNames: [String: [String]] = [:]
  /// Decisions already made, per policy: replicas of a Deployment ask the same question.
  private var decided: [[DecisionKey: PullDecision]]
  private var trackedSecrets: [SecretImageKey: [ImagePullSecret]] = [:]
  private var brokenSecrets: Set<String> = []

  struct DecisionKey: Hashable {
    var image: String
    var imageRef: String?
    var secrets: [ImagePullSecret]
    var account: ImagePullServiceAccount?
  }

  struct SecretImageKey: Hashable {
    var namespace: String
    var name: String
    var image: String
  }

  /// Validates the options and the records directory (`.records` errors: exit 4), and reads the
  /// record names when there is no `--images` and the records are the kubelet's.
  ///
  /// - Parameters:
  ///   - serviceAccountUIDs: `namespace/name` → uid, from `--service-accounts`; without it no pod
  ///     service account is offered, and records that name one never match.
  public init(
    options: AuditOptions, secrets: AuditSecrets?, serviceAccountUIDs: [String: String]? = nil, images: RuntimeImages?,
    config: PullwardenConfig?
  ) throws(PullwardenError) {
    self.options = options
    self.secrets = secrets
    self.serviceAccountUIDs = serviceAccountUIDs
    self.images = images
    self.config = config
    var verifiers: [PullVerifier] = []
    for policy in VerificationPolicy.allCases {
      let patterns = policy == .neverVerifyAllowlistedImages ? options.allowlist : []
      verifiers.append(PullVerifier(policy: try CredentialVerificationPolicy(policy, allowlist: patterns, rules: options.rules)))
    }
    self.verifiers = verifiers
    decided = Array(repeating: [:], count: verifiers.count)
    store = RecordStore(directory: options.recordsDirectory)
    try store.checkLayout()
    reader = RecordReader(store: store, remember: true)
    if !reader.keyedByImageName && images == nil {
      var unreadable = 0
      for listed in try store.listPulled() {
        switch listed.content {
        case .found(let record, _):
          for name in record.credentialMapping.keys { recordNames[name, default: []].append(record.imageRef) }
        case .unreadable, .mismatched:
          unreadable += 1
        case .absent:
          break
        }
      }
      if unreadable > 0 {
        warnings.append("\(unreadable) record file\(unreadable == 1 ? "" : "s") in \(store.pulledDirectory) cannot be read or name another imageRef: images known only to them are reported as not recorded")
      }
    }
  }

  /// How containers are matched to records, for the whole run.
  public var matching: AuditMatching {
    if images != nil { return .runtimeImages }
    return reader.keyedByImageName ? .imageName : .recordNames
  }

  public func run(_ given: [AuditPod], now: Timestamp) -> AuditReport {
    let pods = options.node.map { node in given.filter { $0.nodeName == node } } ?? given
    if secrets == nil && pods.contains(where: { !$0.pullSecretNames.isEmpty }) {
      warnings.append("no --secrets: pods' pull Secrets are not compared with the records (their credential hashes and uids are unknown), so decisions that depend on them say must pull")
    }
    if options.allowlist.isEmpty {
      warnings.append("no --allowlist: NeverVerifyAllowlistedImages verifies every image, as AlwaysVerify does")
    }
    let audited = pods.map { pod in AuditedPod(pod: pod, containers: pod.containers.map { audit($0, of: pod, now: now) }) }
    return AuditReport(
      recordsDirectory: options.recordsDirectory, recordsLayout: reader.keyedByImageName ? "pullwarden" : "kubelet", matching: matching,
      rules: options.rules, allowlist: options.allowlist, pods: audited, podsOnOtherNodes: given.count - pods.count, warnings: warnings)
  }

  private func audit(_ container: AuditContainer, of pod: AuditPod, now: Timestamp) -> AuditedContainer {
    var result = AuditedContainer(
      container: container, matching: matching, imageRefs: [], onNode: nil, matchNote: "", podSecrets: [], podServiceAccount: nil,
      configSources: [], holdsCredentials: false, verdicts: [])
    result.podSecrets = podSecrets(of: pod, for: container.image)
    result.configSources = coveringSources(container.image)
    result.podServiceAccount = serviceAccount(of: pod, for: container.image)
    result.holdsCredentials =
      !result.podSecrets.isEmpty || !result.configSources.isEmpty || (secrets == nil && !pod.pullSecretNames.isEmpty)

    if container.pullPolicy == "Always" {
      result.matching = .none
      result.matchNote = "imagePullPolicy Always: the kubelet pulls at every start, whatever the policy"
      result.verdicts = VerificationPolicy.allCases.map {
        .init(policy: $0, decision: nil, outcome: .pullsAnyway, why: "pulled at every start with the pod's credentials")
      }
      return result
    }

    // The imageRefs to ask about: nil means "by name" (Pullwarden's records).
    var refs: [String?] = []
    switch result.matching {
    case .runtimeImages:
      if let id = images!.id(of: container.image) {
        result.onNode = true
        refs = [reader.keyedByImageName ? nil : id]
        result.imageRefs = [id]
        result.matchNote = "on the node as image ID \(id)" + (reader.keyedByImageName ? "; Pullwarden's records are looked up by image name" : "")
      } else {
        result.onNode = false
        result.matchNote = "not on the node: crictl images lists no image for \(container.image)"
      }
    case .imageName:
      if let name = try? ImageReference(parsing: container.image).name, isRecorded(name: name, image: container.image) {
        result.onNode = true
        refs = [nil]
        result.matchNote = "Pullwarden's records hold \(name)"
      } else {
        result.matchNote = "no record or intent names \(container.image): on the node only if preloaded (give --images to know)"
      }
    case .recordNames:
      let found = candidateRefs(container.image)
      if found.isEmpty {
        result.matchNote = "no record names \(container.image): on the node only if preloaded or pulled before the records (give --images to know)"
      } else {
        result.onNode = true
        refs = found
        result.imageRefs = found
        result.matchNote = found.count == 1
          ? "a record names it, for image ID \(found[0])"
          : "records name it for \(found.count) image IDs; the strictest answer is shown"
      }
    case .none:
      break
    }

    result.verdicts = verifiers.enumerated().map { index, verifier in
      guard !refs.isEmpty else {
        if result.onNode == false {
          return .init(policy: verifier.policy.policy, decision: nil, outcome: .notOnNode, why: "not on the node: pulled when needed, whatever the policy")
        }
        // Not recorded and no --images: whether it is on the node is unknown, but a policy that would
        // not verify it (NeverVerify; a preloaded-looking image under NeverVerifyPreloadedImages; an
        // allowlisted one) leaves the pod as it is either way.
        let pulled = reader.intent(image: container.image) == .present
        if !verifier.policy.requiresVerification(image: container.image, pulledByKubelet: pulled) {
          return .init(
            policy: verifier.policy.policy, decision: nil, outcome: .keepsWorking,
            why: "not recorded: if the image is on the node, this policy does not verify it")
        }
        return .init(
          policy: verifier.policy.policy, decision: nil, outcome: .notRecorded,
          why: "not recorded: if the image is on the node (preloaded), this policy verifies it and the pod must re-pull; give --images to know")
      }
      var chosen: PullDecision?
      for ref in refs {
        let decision = decide(index, image: container.image, imageRef: ref, result: result, now: now)
        if chosen == nil || (decision.mustPull && !chosen!.mustPull) { chosen = decision }
      }
      return verdict(verifier.policy.policy, chosen!, container: container, result: result)
    }
    return result
  }

  private func decide(_ index: Int, image: String, imageRef: String?, result: AuditedContainer, now: Timestamp) -> PullDecision {
    let key = DecisionKey(image: image, imageRef: imageRef, secrets: result.podSecrets, account: result.podServiceAccount)
    if let known = decided[index][key] { return known }
    let request = VerifyRequest(image: image, imageRef: imageRef, podSecrets: result.podSecrets, podServiceAccount: result.podServiceAccount)
    let decision = verifiers[index].decide(request, records: reader, now: now)
    decided[index][key] = decision
    return decision
  }

  private func verdict(_ policy: VerificationPolicy, _ decision: PullDecision, container: AuditContainer, result: AuditedContainer)
    -> AuditedContainer.Verdict
  {
    if !decision.mustPull {
      return .init(policy: policy, decision: decision, outcome: .keepsWorking, why: "the kubelet lets the pod use the image on the node")
    }
    if container.pullPolicy == "Never" {
      return .init(policy: policy, decision: decision, outcome: .wouldFail, why: "imagePullPolicy Never: the kubelet may not re-pull (ErrImageNeverPull)")
    }
    if result.holdsCredentials {
      return .init(policy: policy, decision: decision, outcome: .rePullWithCredentials, why: "re-pulls with \(credentialSummary(result))")
    }
    return .init(
      policy: policy, decision: decision, outcome: .wouldFail,
      why: "must re-pull and holds no credentials for the image (fails unless the registry allows anonymous pulls)")
  }

  /// What the pod would re-pull with, in words.
  func credentialSummary(_ result: AuditedContainer) -> String {
    var parts: [String] = []
    var secretNames: [String] = []
    var seen: Set<String> = []
    for secret in result.podSecrets where seen.insert("\(secret.namespace)/\(secret.name)").inserted {
      secretNames.append("\(secret.namespace)/\(secret.name)")
    }
    if !secretNames.isEmpty { parts.append("Secret " + secretNames.joined(separator: ", ")) }
    if !result.configSources.isEmpty { parts.append("config source " + result.configSources.joined(separator: ", ")) }
    if parts.isEmpty { parts.append("its pull Secrets (not checked: no --secrets)") }
    return parts.joined(separator: "; ")
  }

  /// Whether Pullwarden's store knows `name`: a record (readable or not) or an intent.
  private func isRecorded(name: String, image: String) -> Bool {
    switch reader.pulledRecord(imageRef: name) {
    case .found, .unreadable: return true
    case .absent, .mismatched: break
    }
    return reader.intent(image: name) != .absent || reader.intent(image: image) != .absent
  }

  /// The imageRefs of kubelet records whose credentialMapping names the image: under the name the
  /// kubelet of `rules` uses, and under the normalized name older kubelets wrote.
  private func candidateRefs(_ image: String) -> [String] {
    var names: [String] = []
    if let name = try? options.rules.imageName(image) { names.append(name) }
    if let normalized = try? ImageReference(parsing: image).name, !names.contains(normalized) { names.append(normalized) }
    var refs: [String] = []
    for name in names {
      for ref in recordNames[name] ?? [] where !refs.contains(ref) { refs.append(ref) }
    }
    return refs
  }

  /// The pod's tracked Secret credentials for `image`, as the kubelet's `getPodCredentials` lists them.
  private func podSecrets(of pod: AuditPod, for image: String) -> [ImagePullSecret] {
    guard let secrets else { return [] }
    var tracked: [ImagePullSecret] = []
    for name in pod.pullSecretNames {
      let key = SecretImageKey(namespace: pod.namespace, name: name, image: image)
      if let known = trackedSecrets[key] {
        tracked += known
        continue
      }
      var found: [ImagePullSecret] = []
      let label = "\(pod.namespace)/\(name)"
      if let secret = secrets.secret(namespace: pod.namespace, name: name) {
        do {
          if let config = try secret.dockerConfig(), let reference = try? ImageReference(parsing: image) {
            found = DockerConfig.trackedSecrets(
              config.entries, for: reference, uid: secret.coordinates.uid, namespace: pod.namespace, name: name)
          } else if !secret.isDockerSecret, brokenSecrets.insert(label).inserted {
            warnings.append("Secret \(Escaping.quoted(label)) is of type \(Escaping.quoted(secret.type)), not a docker config: the kubelet gets no credentials from it")
          }
        } catch {
          if brokenSecrets.insert(label).inserted {
            warnings.append("Secret \(Escaping.quoted(label)) holds no usable docker config, so it counts for nothing: \(error.what)")
          }
        }
      } else if brokenSecrets.insert(label).inserted {
        warnings.append("Secret \(Escaping.quoted(label)), a pull Secret of pod \(Escaping.quoted(pod.namespace + "/" + pod.name)), is not in --secrets: it counts for nothing")
      }
      trackedSecrets[key] = found
      tracked += found
    }
    return tracked
  }

  /// The `--config` sources whose matchImages cover `image`.
  private func coveringSources(_ image: String) -> [String] {
    guard let config else { return [] }
    return config.sources.filter { $0.common.matchImages.contains { $0.matches(image) } }
      .map { "\($0.common.name) (\($0.typeName))" }
  }

  /// The pod's service account as the kubelet tracks it: only when a service-account token source
  /// covers the image (given `--config`; without it, whenever the uid is known) and its uid is known.
  private func serviceAccount(of pod: AuditPod, for image: String) -> ImagePullServiceAccount? {
    guard let uid = serviceAccountUIDs?[pod.namespace + "/" + pod.serviceAccountName] else { return nil }
    if let config {
      let covered = config.sources.contains { source in
        source is any ServiceAccountTokenSource && source.common.matchImages.contains { $0.matches(image) }
      }
      if !covered { return nil }
    }
    return ImagePullServiceAccount(uid: uid, namespace: pod.namespace, name: pod.serviceAccountName)
  }

  /// `namespace/name` → uid from `kubectl get serviceaccounts -o json`.
  public static func serviceAccountUIDs(_ bytes: [UInt8], name: String) throws(PullwardenError) -> [String: String] {
    var uids: [String: String] = [:]
    for item in try AuditList.items(bytes, name: name, itemKind: "ServiceAccount") {
      guard let metadata = try item.object("metadata") else { throw item.error("ServiceAccount has no \"metadata\"") }
      let account = try AuditList.bounded(metadata, "name", required: true)
      let namespace = try AuditList.bounded(metadata, "namespace") ?? "default"
      if let uid = try AuditList.bounded(metadata, "uid"), !uid.isEmpty { uids[namespace + "/" + account] = uid }
    }
    return uids
  }
}
