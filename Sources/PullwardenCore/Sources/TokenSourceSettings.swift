/// What the kubelet's `CredentialProviderConfig` must say (`tokenAttributes`) for a token source to
/// receive what it needs; `config check` prints it and the docs explain each field.
public struct KubeletTokenAttributes: Sendable, Equatable {
  /// `serviceAccountTokenAudience`; nil when the source does not pin one (`tokenAudience` unset).
  public var serviceAccountTokenAudience: String?
  /// `cacheType`: `Token` or `ServiceAccount`.
  public var cacheType: String
  /// True when the kubelet refuses any other cacheType for this source (the token is the password).
  public var cacheTypeIsRequired: Bool
  /// `requireServiceAccount`: true unless the source skips requests without a token.
  public var requireServiceAccount: Bool
  /// Keys for `requiredServiceAccountAnnotationKeys`.
  public var requiredAnnotationKeys: [String]
  /// Keys for `optionalServiceAccountAnnotationKeys` (annotations mapped to settings, not required).
  public var optionalAnnotationKeys: [String]
}

/// A source that turns the pod's service-account token (KEP-4412) into a registry credential.
public protocol ServiceAccountTokenSource: CredentialSource {
  var token: TokenSettings { get }
  var kubeletTokenAttributes: KubeletTokenAttributes { get }
}

/// Settings every service-account token source has: the registry username, which token and
/// annotations it expects, and what to do for a request without a token.
public struct TokenSettings: Sendable {
  public enum WithoutToken: String, Sendable {
    /// Fail the request: the kubelet is not sending tokens (no tokenAttributes for this provider).
    case error
    /// Contribute nothing, so other sources (or an anonymous pull) answer: for static pods and pods
    /// without a service account when the kubelet has `requireServiceAccount: false`.
    case skip
  }

  public static let keys = ["username", "tokenAudience", "requiredAnnotations", "annotationsToConfig", "withoutToken"]

  /// The registry username that goes with the credential.
  public var username: String
  /// When set, the token's `aud` must contain it (the kubelet's `serviceAccountTokenAudience`).
  public var tokenAudience: String?
  /// Annotations the service account must carry; a missing one is an error.
  public var requiredAnnotations: [String]
  /// Setting name → annotation key whose value, when the service account has it, replaces the setting.
  public var annotationsToConfig: [(setting: String, annotation: String)]
  public var withoutToken: WithoutToken

  /// Reads the settings; `mappable` are the setting names `annotationsToConfig` may name.
  init(_ settings: ObjectReader, mappable: [String], usernameRequired: Bool = true) throws(PullwardenError) {
    username = usernameRequired ? try settings.requiredNonEmptyString("username") : try settings.string("username") ?? ""
    tokenAudience = try settings.string("tokenAudience")
    if tokenAudience?.isEmpty == true { throw settings.error("\"tokenAudience\" must not be empty", at: "tokenAudience") }
    requiredAnnotations = try settings.stringArray("requiredAnnotations") ?? []
    for (index, key) in requiredAnnotations.enumerated() where !Self.isAnnotationKey(key) {
      throw settings.document.error(
        "\"\(key)\" is not a valid annotation key (an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.')",
        at: settings.path.appending("requiredAnnotations").appending(index))
    }
    annotationsToConfig = []
    if let mapping = try settings.object("annotationsToConfig") {
      for member in mapping.object.members {
        guard mappable.contains(member.key) else {
          throw mapping.error(
            "setting \"\(member.key)\" cannot come from an annotation (possible: \(mappable.joined(separator: ", ")))", at: member.key)
        }
        guard case .string(let annotation) = member.value, Self.isAnnotationKey(annotation) else {
          throw mapping.error("\"\(member.key)\" must name an annotation key such as pullwarden.dev/\(member.key)", at: member.key)
        }
        annotationsToConfig.append((member.key, annotation))
      }
    }
    let mode = try settings.string("withoutToken") ?? "error"
    guard let withoutToken = WithoutToken(rawValue: mode) else {
      throw settings.error("unknown withoutToken \"\(mode)\" (expected error or skip)", at: "withoutToken")
    }
    self.withoutToken = withoutToken
  }

  /// The annotation a setting comes from, if it is mapped.
  public func annotation(for setting: String) -> String? {
    annotationsToConfig.first { $0.setting == setting }?.annotation
  }

  /// The request's token, decoded and checked against these settings; nil when the request has none
  /// and the source skips such requests.
  func serviceAccountToken(in context: ProvideContext, source: String) throws(PullwardenError) -> ServiceAccountToken? {
    guard let text = context.request.serviceAccountToken else {
      if withoutToken == .skip {
        context.trace.note(.skippedWithoutToken, source: source)
        return nil
      }
      context.trace.note(.missingToken, source: source)
      throw PullwardenError(
        .source,
        "no serviceAccountToken in the request: give this provider tokenAttributes in the kubelet's CredentialProviderConfig, or set withoutToken: skip to leave pods without a service account to other sources",
        at: "source \"\(source)\"")
    }
    let token = try ServiceAccountToken(text, now: context.now)
    if let tokenAudience, !token.audiences.contains(tokenAudience) {
      context.trace.note(.audienceMismatch(expected: tokenAudience, found: token.audiences), source: source)
      let found = token.audiences.isEmpty ? "none" : token.audiences.map { "\"\($0)\"" }.joined(separator: ", ")
      throw PullwardenError(
        .request,
        "serviceAccountToken audience is \(found), expected \"\(tokenAudience)\" (the kubelet's tokenAttributes.serviceAccountTokenAudience must equal tokenAudience)",
        at: "stdin, at serviceAccountToken; source \"\(source)\"")
    }
    for key in requiredAnnotations where context.request.serviceAccountAnnotations[key] == nil {
      context.trace.note(.missingAnnotation(key), source: source)
      throw PullwardenError(
        .source,
        "service account \(token.coordinates) has no annotation \"\(key)\", which this source requires (annotate the ServiceAccount, and list the key in the kubelet's tokenAttributes.requiredServiceAccountAnnotationKeys)",
        at: "source \"\(source)\"")
    }
    return token
  }

  /// A setting's value for this request: the mapped annotation's value when the service account has it,
  /// else `configured`.
  func value(of setting: String, configured: String?, in context: ProvideContext, source: String) throws(PullwardenError) -> String? {
    guard let annotation = annotation(for: setting), let value = context.request.serviceAccountAnnotations[annotation] else {
      return configured
    }
    guard !value.isEmpty, value.utf8.count <= 1024, value.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
      throw PullwardenError(
        .request, "annotation \"\(annotation)\" (for \(setting)) must be non-empty printable text of at most 1 KiB",
        at: "stdin, at serviceAccountAnnotations; source \"\(source)\"")
    }
    return value
  }

  /// The kubelet settings these token settings imply; `cacheType` is the source's choice.
  ///
  /// The kubelet refuses `requiredServiceAccountAnnotationKeys` with `requireServiceAccount: false`, so a
  /// source that skips token-less requests lists its required keys as optional there (and still checks
  /// them itself whenever a token comes).
  func kubeletAttributes(cacheType: String, required: Bool) -> KubeletTokenAttributes {
    let requireServiceAccount = withoutToken == .error
    let kubeletRequired = requireServiceAccount ? requiredAnnotations : []
    var optional: [String] = []
    for key in (requireServiceAccount ? [] : requiredAnnotations) + annotationsToConfig.map(\.annotation)
    where !kubeletRequired.contains(key) && !optional.contains(key) {
      optional.append(key)
    }
    return KubeletTokenAttributes(
      serviceAccountTokenAudience: tokenAudience, cacheType: cacheType, cacheTypeIsRequired: required,
      requireServiceAccount: requireServiceAccount, requiredAnnotationKeys: kubeletRequired, optionalAnnotationKeys: optional)
  }

  /// Kubernetes qualified names: `[prefix/]name`, prefix a DNS subdomain, name 1-63 alphanumerics with
  /// '-', '_' or '.' inside (the kubelet validates its annotation key lists the same way).
  static func isAnnotationKey(_ key: String) -> Bool {
    let parts = key.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count <= 2, let name = parts.last, !name.isEmpty, name.utf8.count <= 63 else { return false }
    let nameBytes = Array(name.utf8)
    func alnum(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }
    guard alnum(nameBytes.first!), alnum(nameBytes.last!),
      nameBytes.allSatisfy({ alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") })
    else { return false }
    if parts.count == 2 {
      let prefix = parts[0]
      guard !prefix.isEmpty, prefix.utf8.count <= 253,
        prefix.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ label in
          let b = Array(label.utf8)
          return !b.isEmpty && b.count <= 63 && alnum(b.first!) && alnum(b.last!)
            && b.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") } && b.allSatisfy { !(65...90).contains($0) }
        })
      else { return false }
    }
    return true
  }
}

/// Reads the HTTP settings token sources share.
enum HTTPSourceSettings {
  static let keys = ["caFile", "clientCertFile", "clientKeyFile", "connectTimeout", "timeout", "totalTimeout", "attempts"]

  static func read(_ settings: ObjectReader, baseDirectory: String) throws(PullwardenError) -> HTTPSettings {
    func path(_ key: String) throws(PullwardenError) -> String? {
      guard let text = try settings.string(key) else { return nil }
      if text.isEmpty { throw settings.error("\"\(key)\" must not be empty", at: key) }
      return FileIO.resolve(text, relativeTo: baseDirectory)
    }
    func positive(_ key: String, default value: GoDuration) throws(PullwardenError) -> GoDuration {
      guard let duration = try settings.duration(key) else { return value }
      if duration <= .zero { throw settings.error("\"\(key)\" must be positive", at: key) }
      return duration
    }
    var http = HTTPSettings()
    http.caFile = try path("caFile")
    http.clientCertificateFile = try path("clientCertFile")
    http.clientKeyFile = try path("clientKeyFile")
    if (http.clientCertificateFile == nil) != (http.clientKeyFile == nil) {
      throw settings.error(
        "\"clientCertFile\" and \"clientKeyFile\" go together (mutual TLS needs both)",
        at: http.clientCertificateFile == nil ? "clientKeyFile" : "clientCertFile")
    }
    http.connectTimeout = try positive("connectTimeout", default: HTTPSettings.defaultConnectTimeout)
    http.attemptTimeout = try positive("timeout", default: HTTPSettings.defaultAttemptTimeout)
    http.totalTimeout = try positive("totalTimeout", default: HTTPSettings.defaultTotalTimeout)
    if http.totalTimeout > HTTPSettings.longestTotalTimeout {
      throw settings.error(
        "\"totalTimeout\" must be at most \(HTTPSettings.longestTotalTimeout): the kubelet kills a credential provider after 1 minute",
        at: "totalTimeout")
    }
    // A per-attempt limit longer than the whole budget would silently be the budget.
    http.attemptTimeout = min(http.attemptTimeout, http.totalTimeout)
    http.connectTimeout = min(http.connectTimeout, http.attemptTimeout)
    if let attempts = try settings.integer("attempts") {
      guard (1...3).contains(attempts) else { throw settings.error("\"attempts\" must be 1, 2 or 3", at: "attempts") }
      http.maxAttempts = Int(attempts)
    }
    return http
  }

  /// An `https://` URL setting.
  static func url(_ settings: ObjectReader, _ key: String) throws(PullwardenError) -> HTTPSURL? {
    guard let text = try settings.string(key) else { return nil }
    do {
      return try HTTPSURL(parsing: text)
    } catch {
      throw settings.error("\"\(key)\" \(error)", at: key)
    }
  }
}

extension HTTPResponse {
  /// `HTTP 400 (invalid_grant: subject token expired)`: the status with the server's own error code
  /// and description when the body has them (OAuth `error`/`error_description`, or a registry's
  /// `errors[0].code`/`message`). Nothing else from the body is shown; the text is cut to printable
  /// ASCII and 200 characters, and any of `secrets` (or a dot-separated part of one) is masked, in
  /// case a server echoes what it was sent.
  public func failureSummary(redacting secrets: [String]) -> String {
    var summary = "HTTP \(status)"
    if let detail = serverErrorDetail() {
      summary += " (\(Self.sanitized(detail, redacting: secrets, limit: 200)))"
    }
    return summary
  }

  /// Server-supplied text made safe for an error line: any of `secrets` (or a dot-separated part of
  /// one, for JWTs) masked, cut to printable ASCII, and at most `limit` bytes.
  static func sanitized(_ detail: String, redacting secrets: [String], limit: Int) -> String {
    var text = detail
    let parts = secrets.flatMap { [$0] + $0.split(separator: ".").map(String.init) }.filter { $0.utf8.count >= 8 }
    for secret in parts.sorted(by: { $0.utf8.count > $1.utf8.count }) { text = text.replacingAll(secret, with: "[redacted]") }
    text = String(decoding: text.utf8.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: " ") }, as: UTF8.self)
    if text.utf8.count > limit { text = String(decoding: text.utf8.prefix(limit), as: UTF8.self) + "..." }
    return text
  }

  private func serverErrorDetail() -> String? {
    guard !body.isEmpty, case .object(let object)? = try? JSON.parse(body, document: "response", kind: .source) else { return nil }
    if let code = object["error"]?.stringValue {
      return object["error_description"]?.stringValue.map { "\(code): \($0)" } ?? code
    }
    if case .array(let errors)? = object["errors"], case .object(let first)? = errors.first,
      let code = first["code"]?.stringValue
    {
      return first["message"]?.stringValue.map { "\(code): \($0)" } ?? code
    }
    return nil
  }
}

extension String {
  /// Every occurrence of `target` replaced (byte-wise, without Foundation).
  func replacingAll(_ target: String, with replacement: String) -> String {
    let needle = Array(target.utf8)
    guard !needle.isEmpty else { return self }
    let haystack = Array(utf8)
    var output: [UInt8] = []
    var index = 0
    while index < haystack.count {
      if index + needle.count <= haystack.count && haystack[index..<index + needle.count].elementsEqual(needle) {
        output += replacement.utf8
        index += needle.count
      } else {
        output.append(haystack[index])
        index += 1
      }
    }
    return String(decoding: output, as: UTF8.self)
  }
}
