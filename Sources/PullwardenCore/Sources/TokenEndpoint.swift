/// One call to a token service on behalf of a source, with failures phrased for the kubelet's log:
/// what was attempted, the HTTP status and the server's own error text, the endpoint and the source.
/// Never a token, a credential or a response body.
struct TokenEndpointCall {
  let client: HTTPClient
  let source: String
  /// What the call is for, e.g. "token exchange".
  let purpose: String
  /// Values to mask should a server echo them in its error text (the service-account token).
  let secrets: [String]

  /// Sends `request` and returns the answer, whatever its status; no answer at all is an error.
  func send(_ request: HTTPRequest) throws(PullwardenError) -> HTTPResponse {
    do {
      return try client.send(request)
    } catch {
      throw PullwardenError(.source, "\(purpose) failed: \(error.what)", at: place(error.request, attempts: error.attempts))
        .outage(error.isOutage)
    }
  }

  /// Sends `request` and returns the JSON object of its 2xx answer.
  func json(_ request: HTTPRequest) throws(PullwardenError) -> ObjectReader {
    let response = try send(request)
    guard response.isSuccess else { throw refused(response, request) }
    return try object(in: response, of: request)
  }

  /// The error for a non-2xx answer.
  func refused(_ response: HTTPResponse, _ request: HTTPRequest, hint: String = "") -> PullwardenError {
    var what = "\(purpose) refused: \(response.failureSummary(redacting: secrets))"
    if let stopped = response.retryStopped { what += "; not retried: \(stopped)" }
    return PullwardenError(.source, what + hint, at: place(request.label, attempts: response.attempts))
      .outage(HTTPClient.isRetryable(status: response.status))
  }

  /// The body of `response` as a JSON object, with errors that name the endpoint, never the body.
  func object(in response: HTTPResponse, of request: HTTPRequest) throws(PullwardenError) -> ObjectReader {
    let name = "answer to \(request.label)"
    do {
      let document = Document(name: name, kind: .source, root: try JSON.parse(response.body, document: name, kind: .source))
      return try document.rootObject(describedAs: "\(purpose) answer")
    } catch {
      throw PullwardenError(.source, "\(purpose): \(error.what)", at: place(request.label, attempts: response.attempts))
    }
  }

  func failure(_ what: String, _ request: HTTPRequest, attempts: Int = 1) -> PullwardenError {
    PullwardenError(.source, "\(purpose): \(what)", at: place(request.label, attempts: attempts))
  }

  private func place(_ request: String, attempts: Int) -> String {
    "\(request)\(attempts > 1 ? " after \(attempts) attempts" : ""), source \"\(source)\""
  }

  /// A lifetime in seconds from a token answer: a JSON number, or a string of digits (some identity
  /// providers send `"3600"`). Nil when absent; an error when present but unusable.
  func lifetime(_ answer: ObjectReader, _ key: String, _ request: HTTPRequest) throws(PullwardenError) -> GoDuration? {
    switch answer.object[key] {
    case nil, .null?:
      return nil
    case .integer(let seconds)?:
      return .seconds(max(0, min(seconds, 1 << 32)))
    case .real(let seconds)? where seconds.isFinite:
      return .seconds(Int64(max(0, min(seconds, Double(1 << 32)))))
    case .string(let text)? where !text.isEmpty && text.utf8.count <= 10 && text.allSatisfy(\.isASCIIDigit):
      return .seconds(Int64(text)!)
    default:
      throw failure("\"\(key)\" in the answer is not a number of seconds", request)
    }
  }
}

/// A credential a token source obtained from a service, before it is keyed and handed out.
public struct ObtainedCredential: Sendable, Equatable {
  public var password: String
  /// When the credential stops working; nil when the service did not say.
  public var expiresAt: Timestamp?

  public init(password: String, expiresAt: Timestamp?) {
    self.password = password
    self.expiresAt = expiresAt
  }
}

extension ServiceAccountTokenSource {
  /// The one credential a token source hands out for `context`.
  func supplied(
    _ obtained: ObtainedCredential, username: String, key: RegistryKey, token: ServiceAccountToken
  ) -> [SuppliedCredential] {
    [
      SuppliedCredential(
        key: key, credential: RegistryCredential(username: username, password: obtained.password),
        origin: CredentialOrigin(serviceAccount: token.coordinates), expiresAt: obtained.expiresAt, sourceName: common.name)
    ]
  }

  /// The stand-in for the credential a call would obtain, for `explain` without `--live`: no password,
  /// no expiry, marked unresolved.
  func unresolved(username: String, key: RegistryKey, token: ServiceAccountToken) -> [SuppliedCredential] {
    [
      SuppliedCredential(
        key: key, credential: RegistryCredential(username: username, password: ""),
        origin: CredentialOrigin(serviceAccount: token.coordinates), sourceName: common.name, unresolved: true)
    ]
  }

  /// The checked token, the registry key and the username for a source that answers for the image's
  /// registry; nil when the source has nothing to add (no token and `withoutToken: skip`, or a key
  /// outside this response's scope).
  func prepare(_ context: ProvideContext) throws(PullwardenError) -> (token: ServiceAccountToken, key: RegistryKey, username: String)? {
    guard let serviceAccountToken = try token.serviceAccountToken(in: context, source: common.name),
      let key = registryKey(in: context)
    else { return nil }
    let username = try token.value(of: "username", configured: token.username, in: context, source: common.name) ?? token.username
    return (serviceAccountToken, key, username)
  }

  /// The registry key for the requested image's registry, when this response should include it.
  func registryKey(in context: ProvideContext) -> RegistryKey? {
    guard let key = RegistryKey(normalizing: context.request.reference.domain),
      context.includes(key, within: common.matchImages)
    else { return nil }
    return key
  }

  /// Token sources answer for the requested registry only, so a `Global` answer (reused by the kubelet
  /// for every registry the provider matches) would be wrong.
  static func checkCacheKeyType(_ common: SourceCommon, _ settings: ObjectReader, imageOnly reason: String? = nil)
    throws(PullwardenError)
  {
    if common.cacheKeyType == .global {
      throw settings.error(
        "cacheKeyType Global does not suit a \(typeName) source: its credential is for the requested registry only (use Image or Registry)",
        at: "cacheKeyType")
    }
    if let reason, common.cacheKeyType != .image {
      throw settings.error("cacheKeyType \(common.cacheKeyType.rawValue) does not suit this source: \(reason) (use Image)", at: "cacheKeyType")
    }
  }
}
