/// `type: kubernetesSecrets`: the pod's own pull Secrets, read from the Kubernetes API server with the
/// pod's service-account token (KEP-4412), so registry access follows the pod's identity rather than a
/// node-wide secret.
///
/// Which Secrets: the service account's `imagePullSecrets` (GET the ServiceAccount), the names an
/// annotation on it lists (`secretsAnnotation`, passed on by the kubelet), and a fixed `secretNames`
/// list, all in the token's namespace, in that order, each fetched at most once per call and all at
/// once. The token's namespace, name and uid must agree with the ServiceAccount the API returns.
/// Credentials keep both the Secret's coordinates and the service account's, so pull records name
/// both and the verifier can match a pod presenting the same Secret.
public struct KubernetesSecretsSource: ServiceAccountTokenSource {
  public static let typeName = "kubernetesSecrets"
  public static let makesHTTPRequests = true
  public static let settingKeys =
    ["server", "inCluster", "kubeconfig", "kubeconfigContext", "imagePullSecrets", "secretsAnnotation", "secretNames"]
    + TokenSettings.keys.filter { $0 != "username" } + HTTPSourceSettings.keys + ["staleIfError"]

  public let common: SourceCommon
  public let token: TokenSettings
  let location: APIServerLocation
  /// Read the service account's `imagePullSecrets`.
  public let imagePullSecrets: Bool
  /// An annotation on the service account listing Secret names, comma-separated.
  public let secretsAnnotation: String?
  /// Secret names always read (in the pod's namespace).
  public let secretNames: [String]
  public let http: HTTPSettings
  /// Serve the Secrets last read, at most this old, while the API server is down (`StaleSecrets`).
  public let staleIfError: GoDuration?

  public init(common: SourceCommon, settings: ObjectReader, baseDirectory: String) throws(PullwardenError) {
    try Self.checkCacheKeyType(common, settings)
    self.common = common
    token = try TokenSettings(settings, mappable: [], usernameRequired: false)
    http = try HTTPSourceSettings.read(settings, baseDirectory: baseDirectory)

    let server = try HTTPSourceSettings.url(settings, "server")
    let inCluster = try settings.bool("inCluster") ?? false
    let kubeconfig = try settings.string("kubeconfig")
    let chosen = [server != nil, inCluster, kubeconfig != nil].filter { $0 }.count
    guard chosen == 1 else {
      throw settings.error(
        chosen == 0
          ? "say where the API server is: \"server\" (with \"caFile\"), \"inCluster: true\", or \"kubeconfig\""
          : "give only one of \"server\", \"inCluster\" and \"kubeconfig\"")
    }
    let context = try settings.string("kubeconfigContext")
    if context != nil && kubeconfig == nil {
      throw settings.error("\"kubeconfigContext\" goes with \"kubeconfig\"", at: "kubeconfigContext")
    }
    if let server {
      location = .explicit(server)
    } else if let kubeconfig {
      if kubeconfig.isEmpty { throw settings.error("\"kubeconfig\" must not be empty", at: "kubeconfig") }
      if http.caFile != nil {
        throw settings.error("\"caFile\" cannot be combined with \"kubeconfig\": the kubeconfig's cluster names its CA", at: "caFile")
      }
      location = .kubeconfig(path: FileIO.resolve(kubeconfig, relativeTo: baseDirectory), context: context)
    } else {
      location = .inCluster(caFile: http.caFile ?? APIServerLocation.inClusterCAFile)
    }

    imagePullSecrets = try settings.bool("imagePullSecrets") ?? true
    secretsAnnotation = try settings.string("secretsAnnotation")
    if let key = secretsAnnotation, !TokenSettings.isAnnotationKey(key) {
      throw settings.error("\"\(key)\" is not a valid annotation key", at: "secretsAnnotation")
    }
    secretNames = try settings.stringArray("secretNames") ?? []
    for (index, name) in secretNames.enumerated() where !isKubernetesName(name) {
      throw settings.document.error(
        "\"\(name)\" is not a valid Secret name (lower-case letters, digits, '-' and '.')",
        at: settings.path.appending("secretNames").appending(index))
    }
    if !imagePullSecrets && secretsAnnotation == nil && secretNames.isEmpty {
      throw settings.error("no Secrets to read: keep \"imagePullSecrets\" on, or set \"secretsAnnotation\" or \"secretNames\"")
    }
    if case .bool? = settings.object["staleIfError"] {
      throw settings.error(
        "\"staleIfError\" takes a duration here, such as \"15m\": Secrets carry no expiry, so it bounds how old a served copy may be",
        at: "staleIfError")
    }
    staleIfError = try settings.duration("staleIfError")
    if let staleIfError, staleIfError <= .zero {
      throw settings.error("\"staleIfError\" must be positive (leave it out to turn it off)", at: "staleIfError")
    }
  }

  /// The credentials depend only on the service account's Secrets, not on the pod, so the kubelet may
  /// share them between the service account's pods (`ServiceAccount`); `Token` works too.
  public var kubeletTokenAttributes: KubeletTokenAttributes {
    var attributes = token.kubeletAttributes(cacheType: "ServiceAccount", required: false)
    if let secretsAnnotation, !attributes.requiredAnnotationKeys.contains(secretsAnnotation),
      !attributes.optionalAnnotationKeys.contains(secretsAnnotation)
    {
      attributes.optionalAnnotationKeys.append(secretsAnnotation)
    }
    return attributes
  }

  public func credentials(for context: ProvideContext) throws(PullwardenError) -> [SuppliedCredential] {
    guard let serviceAccountToken = try token.serviceAccountToken(in: context, source: common.name) else { return [] }
    let account = serviceAccountToken.coordinates
    guard isKubernetesName(account.namespace), isKubernetesName(account.name) else {
      throw PullwardenError(
        .request, "serviceAccountToken names a namespace or service account that is not a valid Kubernetes name",
        at: "stdin, at serviceAccountToken; source \"\(common.name)\"")
    }
    let (server, settings) = try location.resolve(http, source: common.name)
    let calls = APIServerCalls(
      client: context.httpClient(settings, source: common.name), server: server, token: serviceAccountToken.text,
      source: common.name)

    // Names known without the API go out in the same batch as the ServiceAccount.
    var names = try annotatedNames(in: context)
    for name in secretNames where !names.contains(name) { names.append(name) }
    if !context.trace.contactsServers {
      // explain without --live: the calls this run would make, and nothing handed out.
      let account = serviceAccountToken.coordinates
      var paths = imagePullSecrets ? ["/api/v1/namespaces/\(account.namespace)/serviceaccounts/\(account.name)"] : []
      paths += names.prefix(TenantLimits.secretsPerServiceAccount).map { secretPath($0, account) }
      for path in paths {
        let request = try calls.request(path)
        let purpose = path.containsText("/serviceaccounts/") ? "the service account's imagePullSecrets" : "Secret"
        context.trace.note(.wouldCall(method: request.method.rawValue, url: request.url.redacted, purpose: purpose), source: common.name)
      }
      if imagePullSecrets {
        context.trace.note(
          .wouldCall(method: "GET", url: "/api/v1/namespaces/\(account.namespace)/secrets/<each imagePullSecret>", purpose: "Secret"),
          source: common.name)
      }
      context.trace.note(.needsLive("the credentials are in the Secrets the API server returns"), source: common.name)
      return []
    }
    let stale = StaleSecrets(source: self, server: server, token: serviceAccountToken, context: context)
    let obtained: [SuppliedCredential]
    do {
      obtained = try read(names, calls: calls, token: serviceAccountToken, context: context)
      stale?.store(obtained, now: context.now)
    } catch {
      guard let stale else { throw error }
      obtained = try stale.bridge(error, context: context)
    }
    // Kept whole in the cache; only what concerns this answer goes out.
    return obtained.filter { item in
      guard context.includes(item.key, within: common.matchImages) else {
        context.noteLeftOut(item.key, source: common.name)
        return false
      }
      return true
    }
  }

  /// Reads the Secrets from the API server: every registry credential in them, whatever the image.
  private func read(
    _ names: [String], calls: APIServerCalls, token serviceAccountToken: ServiceAccountToken, context: ProvideContext
  ) throws(PullwardenError) -> [SuppliedCredential] {
    let account = serviceAccountToken.coordinates
    var names = names
    let limit = TenantLimits.secretsPerServiceAccount
    var overLimit = names.count > limit
    names = Array(names.prefix(limit))
    let accountPath = "/api/v1/namespaces/\(account.namespace)/serviceaccounts/\(account.name)"
    var requests = imagePullSecrets ? [try calls.request(accountPath)] : []
    for name in names { requests.append(try calls.request(secretPath(name, account))) }
    var results = calls.send(requests)

    var order = names
    var fetched: [String: Result<HTTPResponse, HTTPFailure>] = [:]
    if imagePullSecrets {
      let listed = try pullSecretNames(results.removeFirst(), request: requests[0], calls: calls, token: serviceAccountToken)
      for (name, result) in zip(names, results) { fetched[name] = result }
      order = listed + names.filter { !listed.contains($0) }
      if order.count > limit {
        overLimit = true
        order = Array(order.prefix(limit))
      }
      let missing = order.filter { fetched[$0] == nil }
      let more = try missing.map { (name) throws(PullwardenError) in try calls.request(secretPath(name, account)) }
      for (name, result) in zip(missing, calls.send(more)) { fetched[name] = result }
    } else {
      for (name, result) in zip(names, results) { fetched[name] = result }
    }

    if overLimit {
      // The first Secrets are the ones the kubelet would try first; the answer is cached only briefly.
      context.diagnostics.warn(
        "service account \(account) names more than \(limit) Secrets (secretsPerServiceAccount): only the first \(limit) are read (source \(quoted: common.name))")
      context.advice.noteIncompleteAnswer()
    }
    var supplied: [SuppliedCredential] = []
    var unreadable: [(problem: PullwardenError, forbidden: Bool)] = []
    var read = 0
    for name in order {
      let request = try calls.request(secretPath(name, account))
      switch fetched[name]! {
      case .failure(let failure):
        throw PullwardenError(.source, "reading Secret \(account.namespace)/\(name) failed: \(failure.what)", at: calls.place(request, attempts: failure.attempts))
          .outage(failure.isOutage)
      case .success(let response) where response.status == 401:
        throw PullwardenError(
          .source, "the API server refused the service-account token: \(calls.summary(response)) (is the kubelet's serviceAccountTokenAudience one the API server accepts?)",
          at: calls.place(request, attempts: response.attempts))
      case .success(let response) where response.status == 403 || response.status == 404:
        // A missing or forbidden Secret does not hide the others, as the kubelet treats a pod's pull
        // Secrets; the answer is then cached only briefly.
        let problem = PullwardenError(
          .source, "cannot read Secret \(account.namespace)/\(name): \(calls.summary(response))", at: calls.place(request, attempts: response.attempts))
        unreadable.append((problem, response.status == 403))
      case .success(let response) where !response.isSuccess:
        throw PullwardenError(.source, "reading Secret \(account.namespace)/\(name) failed: \(calls.summary(response))", at: calls.place(request, attempts: response.attempts))
          .outage(HTTPClient.isRetryable(status: response.status))
      case .success(let response):
        read += 1
        supplied += try credentials(in: response, of: request, name: name, account: account, calls: calls, context: context)
      }
    }
    // Nothing readable and some of it forbidden: say so as an error (the kubelet logs it), rather than
    // quietly letting the pull go anonymous. Otherwise each problem is a warning, and the answer is
    // cached only briefly so the Secrets are used soon after they are fixed.
    if read == 0, let forbidden = unreadable.first(where: \.forbidden) { throw forbidden.problem }
    for (problem, _) in unreadable { context.diagnostics.warn(problem.description, kind: "Secrets that cannot be read") }
    if !unreadable.isEmpty { context.advice.noteIncompleteAnswer() }
    return supplied
  }

  // MARK: Steps

  private func secretPath(_ name: String, _ account: ServiceAccountCoordinates) -> String {
    "/api/v1/namespaces/\(account.namespace)/secrets/\(name)"
  }

  /// The Secret names the service account's annotation lists (comma-separated, blanks ignored).
  private func annotatedNames(in context: ProvideContext) throws(PullwardenError) -> [String] {
    guard let secretsAnnotation, let value = context.request.serviceAccountAnnotations[secretsAnnotation] else { return [] }
    var names: [String] = []
    for part in value.split(separator: ",") {
      let name = String(part).trimmingASCIIWhitespace()
      if name.isEmpty || names.contains(name) { continue }
      // One past the limit is enough to know it was passed; more would only cost time.
      if names.count > TenantLimits.secretsPerServiceAccount { break }
      guard isKubernetesName(name) else {
        throw PullwardenError(
          .request, "annotation \"\(secretsAnnotation)\" lists \"\(name)\", which is not a valid Secret name",
          at: "stdin, at serviceAccountAnnotations; source \"\(common.name)\"")
      }
      names.append(name)
    }
    return names
  }

  /// Reads the ServiceAccount, checks it is the one the token names, and returns its imagePullSecrets.
  private func pullSecretNames(
    _ result: Result<HTTPResponse, HTTPFailure>, request: HTTPRequest, calls: APIServerCalls, token: ServiceAccountToken
  ) throws(PullwardenError) -> [String] {
    let account = token.coordinates
    let response: HTTPResponse
    switch result {
    case .failure(let failure):
      throw PullwardenError(.source, "reading ServiceAccount \(account) failed: \(failure.what)", at: calls.place(request, attempts: failure.attempts))
        .outage(failure.isOutage)
    case .success(let answer):
      response = answer
    }
    guard response.isSuccess else {
      var what = "cannot read ServiceAccount \(account): \(calls.summary(response))"
      if response.status == 401 { what += " (is the kubelet's serviceAccountTokenAudience one the API server accepts?)" }
      if response.status == 403 { what += " (grant the service account \"get\" on its own serviceaccount)" }
      throw PullwardenError(.source, what, at: calls.place(request, attempts: response.attempts))
        .outage(HTTPClient.isRetryable(status: response.status))
    }
    let object = try calls.object(response, of: request, describedAs: "ServiceAccount")
    if let kind = try object.string("kind"), kind != "ServiceAccount" {
      throw object.error("expected a ServiceAccount, found kind \"\(kind)\"", at: "kind")
    }
    guard let metadata = try object.object("metadata") else { throw object.error("ServiceAccount has no \"metadata\"") }
    let namespace = try metadata.string("namespace") ?? ""
    let name = try metadata.string("name") ?? ""
    let uid = try metadata.string("uid") ?? ""
    guard namespace == account.namespace, name == account.name else {
      throw PullwardenError(
        .source, "the API server returned ServiceAccount \(namespace)/\(name) for the token's \(account)",
        at: calls.place(request, attempts: response.attempts))
    }
    guard uid == account.uid else {
      throw PullwardenError(
        .source,
        "ServiceAccount \(account) has uid \(uid) on the API server but \(account.uid) in the token: it was deleted and re-created since the token was issued",
        at: calls.place(request, attempts: response.attempts))
    }
    var names: [String] = []
    for entry in try object.objectArray("imagePullSecrets") ?? [] {
      guard let name = try entry.string("name"), !name.isEmpty else { continue }
      guard isKubernetesName(name) else { throw entry.error("\(quoted: name) is not a valid Secret name", at: "name") }
      if !names.contains(name) { names.append(name) }
      // One past the limit is enough to know it was passed; more would only cost time.
      if names.count > TenantLimits.secretsPerServiceAccount { break }
    }
    return names
  }

  /// The registry credentials of one Secret that concern this answer.
  private func credentials(
    in response: HTTPResponse, of request: HTTPRequest, name: String, account: ServiceAccountCoordinates,
    calls: APIServerCalls, context: ProvideContext
  ) throws(PullwardenError) -> [SuppliedCredential] {
    let secret = try KubernetesSecret(calls.object(response, of: request, describedAs: "Secret"), defaultNamespace: "")
    guard secret.coordinates.namespace == account.namespace, secret.coordinates.name == name else {
      throw PullwardenError(
        .source, "the API server returned Secret \(secret.coordinates) when asked for \(account.namespace)/\(name)",
        at: calls.place(request, attempts: response.attempts))
    }
    guard let config = try secret.dockerConfig() else {
      let reason = secret.isDockerSecret ? "it has no registry credentials" : "its type is \(quoted: secret.type)"
      context.diagnostics.warn(
        "ignoring Secret \(secret.coordinates) of service account \(account): \(reason)", kind: "Secrets without registry credentials")
      return []
    }
    for skipped in config.skipped {
      context.diagnostics.warn(
        "ignoring registry \(quoted: skipped.rawKey) in Secret \(secret.coordinates) of service account \(account): \(skipped.reason)",
        kind: "registry entries without credentials")
    }
    return config.entries.compactMap { entry in
      guard let key = entry.key else { return nil }
      return SuppliedCredential(
        key: key, credential: entry.credential, origin: CredentialOrigin(secret: secret.coordinates, serviceAccount: account),
        sourceName: common.name)
    }
  }
}
