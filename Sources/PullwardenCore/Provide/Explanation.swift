import Synchronization

/// What `pullwarden explain` found: `provide`'s own path for one request, source by source, without
/// its side effects, and with every credential named by username, origin and hash, never by secret.
///
/// Built by `Explanation.explain`, which runs the same `Provider.plan`, the same sources and the same
/// `Provider.assemble` as `provide`, with a `ProvideTrace` in explain mode: no state directory (no
/// Secret index), no credential cache, no records, and without `live` no server contacted.
public struct Explanation: Sendable {
  /// The normalized image (`reference.name`), the record key.
  public var image: String
  /// The image as given, when it differs (a tag, a short Docker Hub name).
  public var requestedImage: String
  public var configPath: String
  public var recordsDirectory: String
  public var live: Bool
  public var token: TokenSummary?
  /// The service account's annotations as the request (or `--annotation`) gives them, sorted by key.
  public var annotations: [(key: String, value: String)]
  /// Every configured source, in config order.
  public var sources: [SourceReport]
  /// The response's keys in the order the kubelet tries them.
  public var keys: [KeyReport]
  /// Credentials left out as exact repeats of an earlier one under the same key.
  public var repeats: [KeyReport]
  public var scope: CacheScopeDecision
  public var duration: CacheDurationDecision
  /// What provide would record; nil when it would record nothing.
  public var record: RecordPlan?
  /// The one warning `provide` writes for this request when the image gets no credential.
  public var missLine: String?
  /// Other warnings the run wrote (skipped files, ignored entries), as provide writes them.
  public var warnings: [String]
  /// provide would use the credential cache: explain neither reads nor writes it.
  public var credentialCacheDirectory: String?
  public var result: Result

  public enum Result: Sendable, Equatable {
    /// The kubelet gets `count` credentials for the image; `unresolved` of them come from calls
    /// explain did not make (without `--live`).
    case credentials(count: Int, unresolved: Int)
    /// No credential for the image: the answer is empty (or holds keys for other images only).
    case miss
    /// provide fails: no credentials from Pullwarden, the kubelet logs this error.
    case fails(exitCode: Int32, error: PullwardenError)
    /// Only a server's answer can tell (kubernetesSecrets without `--live`).
    case undetermined
  }

  /// 0 when the image gets credentials, 1 otherwise (a miss, a failure, or undetermined).
  public var exitCode: Int32 {
    if case .credentials = result { return 0 }
    return 1
  }

  public struct TokenSummary: Sendable, Equatable {
    public var serviceAccount: ServiceAccountCoordinates
    /// Made up from `--service-account` (unsigned; no server would accept it).
    public var synthetic: Bool
    /// The token's own expiry; nil for a synthetic token.
    public var expiresAt: Timestamp?
    public var audiences: [String]
  }

  public struct SourceReport: Sendable, Equatable {
    public var verdict: SourceVerdict
    /// Where its credentials come from: a file or directory, an endpoint, the API server.
    public var location: String?
    /// Calls made (`--live`) or that would be made, in order.
    public var calls: [SourceNote]
    /// Registry keys the source holds that this answer leaves out, with the reason (at most 10).
    public var leftOut: [(key: String, mismatch: PatternMismatch?)]
    public var leftOutCount: Int

    public static func == (lhs: SourceReport, rhs: SourceReport) -> Bool {
      lhs.verdict == rhs.verdict && lhs.calls == rhs.calls && lhs.leftOutCount == rhs.leftOutCount
        && lhs.leftOut.map(\.key) == rhs.leftOut.map(\.key)
    }
  }

  public struct KeyReport: Sendable, Equatable {
    /// 1-based position in the kubelet's order; an alias shares its key's position.
    public var position: Int
    /// The key in the response (`registry.example.com#2` for an alias).
    public var key: String
    /// The key the kubelet files it under (the alias without its fragment).
    public var kubeletKey: String
    public var matchesImage: Bool
    public var username: String
    public var source: String
    public var origin: CredentialOrigin
    /// `CredentialHash.of`; nil when the credential is not known (unresolved, or a synthetic token).
    public var credentialHash: String?
    public var expiresAt: Timestamp?
    public var unresolved: Bool

    public var isAlias: Bool { key != kubeletKey }
  }

  /// What `provide` would write under recordsDir (it writes nothing here).
  public struct RecordPlan: Sendable, Equatable {
    public var key: String
    /// Relative to recordsDir: `pulled/sha256-<hex of key>`.
    public var file: String
    /// A trusted record exists already: provide merges into it, without an intent.
    public var exists: Bool
    public var nodePodsAccessible: Bool
    public var secrets: [ImagePullSecret]
    public var serviceAccounts: [ServiceAccountCoordinates]
    /// Service-account credentials whose hash explain does not know (unresolved, synthetic token).
    public var unresolved: Bool
  }
}

// MARK: - Inputs

extension Explanation {
  /// The request explain runs: from `--request` (or a minimal one for IMAGE), with IMAGE, a
  /// synthetic token for `--service-account` and extra `--annotation`s applied. Errors are `.request`
  /// errors naming the option.
  public static func request(
    image: String?, requestBytes: [UInt8]?, requestName: String = "--request", serviceAccount: String?, annotations: [String],
    config: PullwardenConfig, now: Timestamp
  ) throws(PullwardenError) -> (request: CredentialProviderRequest, syntheticToken: Bool) {
    var request: CredentialProviderRequest
    if let requestBytes {
      request = try CredentialProviderRequest.decode(requestBytes, source: requestName)
      if let image {
        do {
          request = try CredentialProviderRequest(
            apiVersion: request.apiVersion, image: image, serviceAccountToken: request.serviceAccountToken,
            serviceAccountAnnotations: request.serviceAccountAnnotations)
        } catch {
          throw PullwardenError(.request, "invalid image \(quoted: image): \(error)", at: "command line, IMAGE")
        }
      }
    } else {
      guard let image else { throw PullwardenError(.request, "give IMAGE, or a request with --request FILE", at: "command line") }
      do {
        request = try CredentialProviderRequest(apiVersion: .v1, image: image)
      } catch {
        throw PullwardenError(.request, "invalid image \(quoted: image): \(error)", at: "command line, IMAGE")
      }
    }
    for item in annotations {
      guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
        throw PullwardenError(.request, "\(quoted: item) is not KEY=VALUE", at: "command line, --annotation")
      }
      let key = String(item[..<equals])
      guard TokenSettings.isAnnotationKey(key) else {
        throw PullwardenError(.request, "\(quoted: key) is not a valid annotation key", at: "command line, --annotation")
      }
      request.serviceAccountAnnotations[key] = String(item[item.index(after: equals)...])
    }
    var synthetic = false
    if let serviceAccount {
      if request.serviceAccountToken != nil {
        throw PullwardenError(
          .request, "the request already has a serviceAccountToken: give --service-account only without one", at: "command line, --service-account")
      }
      request.serviceAccountToken = try syntheticToken(for: serviceAccount, config: config, now: now)
      synthetic = true
    }
    return (request, synthetic)
  }

  /// An unsigned token for `NS/NAME[/UID]` carrying every `tokenAudience` the config's sources expect,
  /// as the kubelet would issue for a correctly configured provider. Never sent to a server: explain
  /// refuses `--live` with it.
  static func syntheticToken(for text: String, config: PullwardenConfig, now: Timestamp) throws(PullwardenError) -> String {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    guard (2...3).contains(parts.count), isKubernetesName(parts[0]), isKubernetesName(parts[1]), parts.count == 2 || !parts[2].isEmpty else {
      throw PullwardenError(
        .request, "\(quoted: text) is not NAMESPACE/NAME or NAMESPACE/NAME/UID of a service account", at: "command line, --service-account")
    }
    let uid = parts.count == 3 ? parts[2] : unknownUID
    var audiences: [JSONValue] = []
    for source in config.sources {
      if let tokenSource = source as? any ServiceAccountTokenSource, let audience = tokenSource.token.tokenAudience,
        !audiences.contains(.string(audience))
      {
        audiences.append(.string(audience))
      }
    }
    var claims = JSONObject()
    claims["aud"] = .array(audiences)
    claims["exp"] = .integer(now.secondsSinceEpoch + 3600)
    claims["iat"] = .integer(now.secondsSinceEpoch)
    claims["iss"] = .string("pullwarden-explain")
    claims["sub"] = .string("system:serviceaccount:\(parts[0]):\(parts[1])")
    claims["kubernetes.io"] = .object([
      "namespace": .string(parts[0]), "serviceaccount": .object(["name": .string(parts[1]), "uid": .string(uid)]),
    ])
    let header: JSONValue = .object(["alg": .string("none"), "typ": .string("JWT")])
    return Base64.encode(JSON.encode(header), alphabet: .urlSafe).filter { $0 != "=" } + "."
      + Base64.encode(JSON.encode(.object(claims)), alphabet: .urlSafe).filter { $0 != "=" } + ".unsigned"
  }

  /// The uid of a synthetic token when `--service-account` names none.
  public static let unknownUID = "<uid>"
}

// MARK: - The run

extension Explanation {
  /// Runs provide's path for `request` and reports it.
  ///
  /// - Parameter live: make the calls the sources make (status and timing are reported); without it
  ///   sources that would call a server say what they would call and hand out a placeholder.
  public static func explain(
    config: PullwardenConfig, request: CredentialProviderRequest, syntheticToken: Bool = false, live: Bool, now: Timestamp
  ) -> Explanation {
    let warnings = Mutex<[String]>([])
    let diagnostics = Diagnostics { message in warnings.withLock { $0.append(message) } }
    let trace = ProvideTrace(mode: .explain(live: live))
    let provider = Provider(config: config)

    // provide checks the records directory before it asks any source.
    var recordsProblem: PullwardenError?
    do {
      try RecordStore(directory: config.recordsDirectory).checkUsableForProvide()
    } catch {
      recordsProblem = error
    }

    let plan = provider.plan(for: request)
    // No state directory: the Secret index is neither read nor written; the answer is the same.
    let context = provider.context(for: request, plan: plan, now: now, diagnostics: diagnostics, stateDirectory: nil, trace: trace)
    var supplied: [SuppliedCredential] = []
    var bySource: [String: [SuppliedCredential]] = [:]
    var failure: (source: String, error: PullwardenError)?
    for source in plan.consulted {
      do {
        let credentials = try source.credentials(for: context)
        supplied += credentials
        bySource[source.common.name] = credentials
      } catch {
        // provide stops at the first failing source, and so does explain.
        failure = (source.common.name, error)
        break
      }
    }
    let outcome = provider.assemble(request, plan: plan, supplied: supplied, context: context)
    diagnostics.summarize()

    var explanation = Explanation(
      image: request.reference.name, requestedImage: request.image, configPath: config.path,
      recordsDirectory: config.recordsDirectory, live: live, token: nil,
      annotations: request.serviceAccountAnnotations.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        .map { ($0.key, $0.value) },
      sources: [], keys: [], repeats: [], scope: outcome.scope, duration: outcome.duration, record: nil, missLine: nil,
      warnings: [], credentialCacheDirectory: config.credentialCache?.directory, result: .miss)
    if let text = request.serviceAccountToken, let token = try? ServiceAccountToken(text, now: now) {
      explanation.token = TokenSummary(
        serviceAccount: token.coordinates, synthetic: syntheticToken, expiresAt: syntheticToken ? nil : token.expiresAt,
        audiences: token.audiences)
    }

    // Sources, in config order.
    let verdicts = SourceVerdict.judgeAll(
      config: config, plan: plan, bySource: bySource, handedOut: outcome.handedOut, failure: failure, trace: trace)
    for (source, verdict) in zip(config.sources, verdicts) {
      var report = SourceReport(verdict: verdict, location: location(of: source), calls: [], leftOut: [], leftOutCount: 0)
      for note in trace.notes(for: source.common.name) {
        switch note {
        case .wouldCall, .called:
          report.calls.append(note)
        case .keyLeftOut(let key, let mismatch):
          report.leftOutCount += 1
          if report.leftOut.count < 10 { report.leftOut.append((key, mismatch)) }
        default:
          break
        }
      }
      explanation.sources.append(report)
    }

    // Keys in the kubelet's order.
    func keyReport(_ item: SuppliedCredential, key: String, kubeletKey: String, position: Int) -> KeyReport {
      let knowsCredential = !item.unresolved && !(syntheticToken && item.origin.serviceAccount != nil)
      return KeyReport(
        position: position, key: key, kubeletKey: kubeletKey, matchesImage: item.key.matches(plan.image),
        username: item.credential.username, source: item.sourceName, origin: item.origin,
        credentialHash: knowsCredential ? CredentialHash.of(item.credential) : nil, expiresAt: item.expiresAt,
        unresolved: !knowsCredential)
    }
    if failure == nil, let assignment = outcome.assignment {
      var position = 0
      var previous: String?
      for ((key, _), (item, kubeletKey)) in zip(assignment.auth, assignment.supplied) {
        if kubeletKey != previous { position += 1 }
        previous = kubeletKey
        explanation.keys.append(keyReport(item, key: key, kubeletKey: kubeletKey, position: position))
      }
      explanation.repeats = assignment.repeats.map { keyReport($0, key: $0.key.text, kubeletKey: $0.key.text, position: 0) }
    }

    // The result, in provide's order of checks.
    if let recordsProblem {
      explanation.result = .fails(exitCode: ProvideRun.exitCode(for: recordsProblem.kind), error: recordsProblem)
    } else if let failure {
      explanation.result = .fails(exitCode: ProvideRun.exitCode(for: failure.error.kind), error: failure.error)
    } else if !outcome.handedOut.isEmpty {
      let unresolved = explanation.keys.filter { $0.matchesImage && $0.unresolved && $0.origin.secret == nil }.count
      explanation.result = .credentials(count: outcome.handedOut.count, unresolved: unresolved)
      explanation.record = recordPlan(outcome, image: request.reference.name, config: config, syntheticToken: syntheticToken, now: now)
    } else if explanation.sources.contains(where: { if case .needsLive = $0.verdict.outcome { return true } else { return false } }) {
      explanation.result = .undetermined
    } else {
      explanation.result = .miss
      explanation.missLine = outcome.missLine
    }
    explanation.warnings = warnings.withLock { $0 }
    return explanation
  }

  /// Where a source's credentials come from, as its settings say.
  static func location(of source: any CredentialSource) -> String? {
    switch source {
    case let docker as DockerConfigSource: return docker.path
    case let files as SecretFilesSource: return files.directory
    case let exchange as TokenExchangeSource: return exchange.endpoint.redacted
    case let registry as RegistryTokenSource:
      return registry.tokenEndpoint?.redacted ?? registry.registry?.redacted ?? "the image's registry (GET /v2/ challenge)"
    case is PassthroughSource: return "the service-account token itself"
    case is KubernetesSecretsSource: return "the Kubernetes API server"
    default: return nil
    }
  }

  /// The record `PullRecorder` would merge for `outcome` (the same contributions it computes).
  static func recordPlan(
    _ outcome: Provider.Outcome, image: String, config: PullwardenConfig, syntheticToken: Bool, now: Timestamp
  ) -> RecordPlan {
    let contributions = PullRecorder.Contributions(
      outcome.handedOut, now: now, validFor: outcome.response.cacheDuration ?? config.defaultCacheDuration)
    let store = RecordStore(directory: config.recordsDirectory)
    let exists = store.hasRecord(imageRef: image)
    // An unresolved credential has no hash: a Secret from it never is (kubernetesSecrets needs --live).
    let secrets = contributions.secrets.map(\.0).filter { secret in
      !outcome.handedOut.contains { $0.unresolved && $0.origin.secret?.uid == secret.uid && $0.origin.secret?.name == secret.name }
    }
    return RecordPlan(
      key: image, file: "pulled/" + RecordStore.fileName(forKey: image), exists: exists,
      nodePodsAccessible: contributions.nodeAccess != nil, secrets: secrets, serviceAccounts: contributions.serviceAccounts.map(\.0),
      unresolved: outcome.handedOut.contains { $0.unresolved } || (syntheticToken && !contributions.serviceAccounts.isEmpty))
  }
}
