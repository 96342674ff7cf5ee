/// The header and claims of a JSON Web Token (compact JWS), read without checking the signature.
///
/// Pullwarden never decides trust from a token: the issuer or the service that receives it verifies
/// the signature. Reading the claims locally lets it fail early with a clear message (expired, wrong
/// audience, not a Kubernetes token) and learn the service account to record. Errors never include the
/// token or any part of it.
public struct JWT: Sendable {
  public var header: JSONObject
  public var claims: JSONObject

  public struct DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
  }

  /// Splits `token` into its three base64url parts and decodes the first two as JSON objects.
  public init(decoding token: String) throws(DecodeError) {
    let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
      throw DecodeError(
        description: parts.count == 5
          ? "is an encrypted JWT (JWE), expected a signed one" : "is not a JWT (expected three base64url parts separated by dots)")
    }
    header = try Self.object(parts[0], part: "header")
    claims = try Self.object(parts[1], part: "payload")
  }

  private static func object(_ part: Substring.UTF8View.SubSequence, part name: String) throws(DecodeError) -> JSONObject {
    guard let bytes = Base64.decode(String(decoding: part, as: UTF8.self), alphabet: .urlSafe, padding: .optional) else {
      throw DecodeError(description: "has a \(name) that is not base64url")
    }
    let value: JSONValue
    do {
      value = try JSON.parse(bytes, document: "JWT \(name)", kind: .request)
    } catch {
      throw DecodeError(description: "has a \(name) that is not JSON")
    }
    guard case .object(let object) = value else { throw DecodeError(description: "has a \(name) that is not a JSON object") }
    return object
  }

  /// A NumericDate claim (`exp`, `iat`, `nbf`): seconds since the epoch, possibly fractional.
  public func time(_ claim: String) throws(DecodeError) -> Timestamp? {
    switch claims[claim] {
    case nil, .null?: return nil
    case .integer(let seconds)?:
      guard abs(seconds) < 1 << 33 else { throw DecodeError(description: "has an out-of-range \"\(claim)\" claim") }
      return Timestamp(secondsSinceEpoch: seconds)
    case .real(let seconds)? where seconds.isFinite && abs(seconds) < Double(1 << 33):
      return Timestamp(nanosecondsSinceEpoch: Int64(seconds * 1e9))
    default:
      throw DecodeError(description: "has a \"\(claim)\" claim that is not a number of seconds")
    }
  }

  /// `aud`, which RFC 7519 allows as one string or a list of strings.
  public var audiences: [String] {
    switch claims["aud"] {
    case .string(let audience)?: return [audience]
    case .array(let values)?: return values.compactMap(\.stringValue)
    default: return []
    }
  }

  public var issuer: String? { claims["iss"]?.stringValue }
  public var subject: String? { claims["sub"]?.stringValue }
}

/// A pod's bound service-account token as the kubelet sends it under KEP-4412, with the claims
/// Pullwarden needs: expiry, audiences, and the `kubernetes.io` identity of the service account.
public struct ServiceAccountToken: Sendable {
  /// The token itself. Never printed, logged or recorded.
  public let text: String
  public let coordinates: ServiceAccountCoordinates
  public let expiresAt: Timestamp
  public let audiences: [String]
  public let issuer: String?
  /// The pod the token is bound to, when the claim is present.
  public let podName: String?

  /// Decodes and checks `text`; errors are request errors naming `location` and never the token.
  ///
  /// - Throws: when it is not a JWT, has expired (`exp` at or before `now`), or lacks `exp` or the
  ///   `kubernetes.io` namespace and service-account name and uid.
  public init(_ text: String, now: Timestamp, location: String = "stdin, at serviceAccountToken") throws(PullwardenError) {
    func failure(_ what: String) -> PullwardenError { PullwardenError(.request, "serviceAccountToken \(what)", at: location) }
    let jwt: JWT
    let expiry: Timestamp?
    do {
      jwt = try JWT(decoding: text)
      expiry = try jwt.time("exp")
    } catch {
      throw failure(error.description)
    }
    guard let expiry else { throw failure("has no \"exp\" claim, so its lifetime is unknown") }
    if expiry <= now { throw failure("expired at \(expiry.rfc3339)") }

    guard case .object(let kubernetes)? = jwt.claims["kubernetes.io"],
      let namespace = kubernetes["namespace"]?.stringValue, !namespace.isEmpty,
      case .object(let account)? = kubernetes["serviceaccount"],
      let name = account["name"]?.stringValue, !name.isEmpty,
      let uid = account["uid"]?.stringValue, !uid.isEmpty
    else {
      throw failure(
        "lacks the \"kubernetes.io\" claim with namespace and serviceaccount name and uid (is it a Kubernetes bound service-account token?)")
    }
    if let subject = jwt.subject, subject != "system:serviceaccount:\(namespace):\(name)" {
      throw failure("has a \"sub\" claim that does not name the service account in its \"kubernetes.io\" claim")
    }
    self.text = text
    coordinates = ServiceAccountCoordinates(namespace: namespace, name: name, uid: uid)
    expiresAt = expiry
    audiences = jwt.audiences
    issuer = jwt.issuer
    if case .object(let pod)? = kubernetes["pod"] { podName = pod["name"]?.stringValue } else { podName = nil }
  }
}
