/// A failure Pullwarden reports to whoever ran it: what went wrong and where, never a secret.
///
/// Every message is written for the kubelet's log line (`pullwarden: <what> (<where>)`), so `what` names
/// the problem and `location` names the file, stream, field or endpoint it came from. Code that builds
/// these errors must never interpolate a token, password, auth string or response body.
public struct PullwardenError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Which part of the input or environment was at fault; the command maps it to an exit code.
  public enum Kind: String, Sendable, Equatable {
    /// The request on stdin (CredentialProviderRequest or a verify request).
    case request
    /// Pullwarden's own configuration file, or a command-line option.
    case config
    /// A credential source: a file, a Secret, a token endpoint, the API server.
    case source
    /// The on-disk record store.
    case records
    /// The answer could not be written (stdout closed or failing).
    case output
  }

  public var kind: Kind
  /// The problem, e.g. `"image" must be a string, found number`.
  public var what: String
  /// Where it was found, e.g. `stdin, image` or `/etc/pullwarden/config.yaml:7:5, sources[0].type`.
  public var location: String?
  /// The service behind a source could not answer (no connection, a timeout, HTTP 5xx or 429): an
  /// outage, which `staleIfError` may bridge, unlike a refusal (4xx) or a wrong answer.
  var isOutage = false

  public init(_ kind: Kind, _ what: String, at location: String? = nil) {
    self.kind = kind
    self.what = what
    self.location = location
  }

  /// The same error, marked as an outage when `outage` is true.
  func outage(_ outage: Bool) -> PullwardenError {
    var copy = self
    copy.isOutage = outage
    return copy
  }

  /// `what (where)` on one line: input text inside either part is escaped here, once for every
  /// message, so a newline or terminal escape in a registry key or file name cannot split or forge a
  /// log line.
  public var description: String {
    guard let location, !location.isEmpty else { return Escaping.line(what) }
    return Escaping.line("\(what) (\(location))")
  }
}
