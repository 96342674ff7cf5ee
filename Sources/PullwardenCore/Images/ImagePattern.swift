/// A `matchImages` entry or an `auth` key, compared to images with the kubelet's `URLsMatch` rules.
///
/// Both sides are read as `https://<text>`: the host is split on `.` into labels and the port is
/// split off. A pattern matches an image when the ports are equal (both absent counts as equal), the
/// label counts are equal, every label matches as a glob (`*.k8s.io`, `app*.k8s.io`), and the
/// pattern's path is a plain string prefix of the image's path (`/foo` also matches `/foobar`).
public struct ImagePattern: Hashable, Sendable, CustomStringConvertible {
  /// The text as written.
  public let text: String
  let location: URLLocation

  public var description: String { text }

  /// The host part as written, with port (`*.example.com:5000`).
  public var hostAndPort: String { location.authority }
  /// The path part, including its leading `/`, or "" when the pattern names only a registry.
  public var path: String { location.path }

  /// Why a pattern is refused.
  public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
  }

  /// Parses and validates `text` as a `matchImages` pattern.
  ///
  /// Stricter than the kubelet, which accepts anything `url.Parse` accepts and then silently never
  /// matches: patterns that cannot match any image are refused here with the reason.
  public init(parsing text: String) throws(ParseError) {
    if text.isEmpty { throw ParseError(reason: "pattern is empty") }
    if text.contains("://") {
      throw ParseError(reason: "pattern must not have a scheme (write \"registry.example.com\", not \"https://registry.example.com\")")
    }
    if let bad = text.unicodeScalars.first(where: { $0.properties.isWhitespace || $0 == "?" || $0 == "#" || $0 == "@" || $0 == "%" }) {
      let what = bad.properties.isWhitespace ? "white space" : "\"\(bad)\""
      throw ParseError(reason: "pattern contains \(what), which the kubelet's URL parsing does not treat as part of a registry or path")
    }
    let location = URLLocation(text)
    if location.authority.isEmpty { throw ParseError(reason: "pattern has no registry host") }
    if location.hostLabels.contains(where: \.isEmpty) {
      throw ParseError(reason: "registry host \"\(location.host)\" has an empty DNS label")
    }
    if let colon = location.authority.lastIndex(of: ":") {
      let port = location.authority[location.authority.index(after: colon)...]
      if !port.allSatisfy(\.isASCIIDigit) {
        throw ParseError(reason: "port \"\(port)\" is not a number (ports cannot be globbed)")
      }
      if location.port.isEmpty && !port.isEmpty {
        throw ParseError(reason: "a character class (\"[...]\") cannot be combined with a port: the kubelet cannot split such a host and never matches it")
      }
    }
    if location.path.contains("*") || location.path.contains("[") {
      throw ParseError(reason: "path \"\(location.path)\" contains a glob, but paths match as a plain prefix: use \"\(location.authority)\" to match every path")
    }
    for label in location.hostLabels {
      if let problem = Glob.validate(label) { throw ParseError(reason: "host label \"\(label)\": \(problem)") }
    }
    self.text = text
    self.location = location
  }

  /// Reads an `auth` key or registry key without validation, as the kubelet's keyring does.
  init(unvalidated text: String) {
    self.text = text
    self.location = URLLocation(text)
  }

  /// Whether this pattern matches `image` (a repository name such as `registry.example.com/team/app`).
  public func matches(_ image: String) -> Bool {
    matches(URLLocation(image))
  }

  func matches(_ image: URLLocation) -> Bool {
    guard location.port == image.port,
      location.hostLabels.count == image.hostLabels.count,
      image.path.hasPrefix(location.path)
    else { return false }
    for (pattern, label) in zip(location.hostLabels, image.hostLabels) where !Glob.matches(pattern, label) {
      return false
    }
    return true
  }

  /// Whether the host and port match those of `image`, ignoring paths: would this pattern match some
  /// image in the same registry?
  func matchesRegistry(of image: URLLocation) -> Bool {
    guard location.port == image.port, location.hostLabels.count == image.hostLabels.count else { return false }
    return zip(location.hostLabels, image.hostLabels).allSatisfy { Glob.matches($0, $1) }
  }
}

/// The parts of `https://<text>` the kubelet compares, split as Go's `url.Parse` and
/// `net.SplitHostPort` split them.
struct URLLocation: Hashable, Sendable {
  /// Everything before the first `/`: host with optional port.
  let authority: String
  /// From the first `/` on, or "".
  let path: String
  /// The host without port.
  let host: String
  let port: String
  let hostLabels: [String]

  init(_ text: String) {
    let slash = text.firstIndex(of: "/")
    authority = String(text[..<(slash ?? text.endIndex)])
    path = slash.map { String(text[$0...]) } ?? ""
    (host, port) = Self.splitHostPort(authority)
    hostLabels = host.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
  }

  init(image: ImageReference) {
    self.init(image.name)
  }

  /// `net.SplitHostPort`, falling back to (whole authority, "") on the inputs it rejects, as the
  /// kubelet's splitURL does. Notably a `[` anywhere but the start makes the split fail.
  private static func splitHostPort(_ authority: String) -> (String, String) {
    guard let colon = authority.lastIndex(of: ":") else { return (authority, "") }
    if authority.hasPrefix("[") {
      guard let close = authority.firstIndex(of: "]"), authority.index(after: close) == colon else {
        return (authority, "")
      }
      let inner = authority[authority.index(after: authority.startIndex)..<close]
      return (String(inner), String(authority[authority.index(after: colon)...]))
    }
    let host = authority[..<colon]
    if host.contains(":") || host.contains("[") || host.contains("]") { return (authority, "") }
    return (String(host), String(authority[authority.index(after: colon)...]))
  }
}
