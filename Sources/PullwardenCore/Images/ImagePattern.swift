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

  // Scans bytes: every delimiter is ASCII, so splitting there never cuts a UTF-8 sequence, and it is
  // an order of magnitude cheaper than Character-level String operations (this runs for every key).
  init(_ text: String) {
    let bytes = Array(text.utf8)
    let slash = bytes.firstIndex(of: UInt8(ascii: "/")) ?? bytes.count
    let authorityBytes = bytes[..<slash]
    authority = String(decoding: authorityBytes, as: UTF8.self)
    path = String(decoding: bytes[slash...], as: UTF8.self)
    let (hostBytes, portBytes) = Self.splitHostPort(authorityBytes)
    host = String(decoding: hostBytes, as: UTF8.self)
    port = String(decoding: portBytes, as: UTF8.self)
    hostLabels = hostBytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
      .map { String(decoding: $0, as: UTF8.self) }
  }

  init(image: ImageReference) {
    self.init(image.name)
  }

  /// `net.SplitHostPort`, falling back to (whole authority, "") on the inputs it rejects, as the
  /// kubelet's splitURL does. Notably a `[` anywhere but the start makes the split fail.
  private static func splitHostPort(_ authority: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
    let colonByte = UInt8(ascii: ":"), open = UInt8(ascii: "["), close = UInt8(ascii: "]")
    guard let colon = authority.lastIndex(of: colonByte) else { return (authority, []) }
    let port = authority[(colon + 1)...]
    if authority.first == open {
      guard let closing = authority.firstIndex(of: close), closing + 1 == colon else { return (authority, []) }
      return (authority[(authority.startIndex + 1)..<closing], port)
    }
    let host = authority[..<colon]
    if host.contains(colonByte) || host.contains(open) || host.contains(close) { return (authority, []) }
    return (host, port)
  }
}
