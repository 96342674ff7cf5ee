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
    // Byte comparisons throughout: Character-level searches, String.contains(String) and Unicode
    // property lookups cost provide about 30k instructions per pattern on every call (Step 10). Every
    // character looked for is ASCII, so a byte match is a character match.
    let bytes = text.utf8
    if text.containsText("://") {
      throw ParseError(reason: "pattern must not have a scheme (write \"registry.example.com\", not \"https://registry.example.com\")")
    }
    if let at = bytes.firstIndex(of: UInt8(ascii: "@")), bytes[..<at].contains(UInt8(ascii: "/")) {
      // A digest: the kubelet matches the repository name, never a digest.
      throw ParseError(
        reason: "pattern has a digest (\"\(text[at...].prefix(14))…\"): the kubelet matches the image name without its tag or digest, so it would never match; write \"\(text[..<at])\"")
    }
    if let bad = text.unicodeScalars.first(where: { Self.isWhitespace($0) || $0 == "?" || $0 == "#" || $0 == "@" || $0 == "%" }) {
      let what = Self.isWhitespace(bad) ? "white space" : "\"\(bad)\""
      throw ParseError(reason: "pattern contains \(what), which the kubelet's URL parsing does not treat as part of a registry or path")
    }
    let location = URLLocation(text)
    if location.authority.isEmpty { throw ParseError(reason: "pattern has no registry host") }
    if location.hostLabels.contains(where: \.isEmpty) {
      throw ParseError(reason: "registry host \"\(location.host)\" has an empty DNS label")
    }
    if let colon = location.authority.utf8.lastIndex(of: UInt8(ascii: ":")) {
      let port = location.authority[location.authority.utf8.index(after: colon)...]
      if !port.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
        throw ParseError(reason: "port \"\(port)\" is not a number (ports cannot be globbed)")
      }
      if location.port.isEmpty && !port.isEmpty {
        throw ParseError(reason: "a character class (\"[...]\") cannot be combined with a port: the kubelet cannot split such a host and never matches it")
      }
    }
    if location.path.utf8.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "[") }) {
      throw ParseError(reason: "path \"\(location.path)\" contains a glob, but paths match as a plain prefix: use \"\(location.authority)\" to match every path")
    }
    for label in location.hostLabels {
      if let problem = Glob.validate(label) { throw ParseError(reason: "host label \"\(label)\": \(problem)") }
    }
    if !location.isValidURL {
      // The kubelet validates matchImages with url.Parse and never matches an auth key it rejects.
      throw ParseError(reason: "the kubelet's URL parsing (Go net/url) rejects \"https://\(text)\"")
    }
    self.text = text
    self.location = location
  }

  /// Unicode's White_Space, answered for ASCII (tab to carriage return, space) without the property table.
  static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    scalar.isASCII ? (scalar.value >= 0x09 && scalar.value <= 0x0D) || scalar.value == 0x20 : scalar.properties.isWhitespace
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
    mismatch(image) == nil
  }

  /// Why this pattern does not match `image`, or nil when it does: the one test `matches` makes, so
  /// `pullwarden explain` and provide's miss line name exactly the part that failed.
  public func mismatch(_ image: String) -> PatternMismatch? {
    mismatch(URLLocation(image))
  }

  func mismatch(_ image: URLLocation) -> PatternMismatch? {
    // URLsMatchStr returns an error, so no match, when url.Parse rejects either side.
    guard location.isValidURL else { return .unparsable(text) }
    guard image.isValidURL else { return .unparsable(image.authority + image.path) }
    guard location.hostLabels.count == image.hostLabels.count else {
      return .labelCount(pattern: location.host, patternCount: location.hostLabels.count, image: image.host, imageCount: image.hostLabels.count)
    }
    for (index, (pattern, label)) in zip(location.hostLabels, image.hostLabels).enumerated() where !Glob.matches(pattern, label) {
      return .label(index: index, pattern: pattern, image: label)
    }
    guard location.port == image.port else { return .port(pattern: location.port, image: image.port) }
    guard image.path.hasPrefix(location.path) else { return .pathPrefix(pattern: location.path, image: image.path) }
    return nil
  }

  /// Whether the host and port match those of `image`, ignoring paths: would this pattern match some
  /// image in the same registry?
  func matchesRegistry(of image: URLLocation) -> Bool {
    guard location.isValidURL, image.isValidURL, location.port == image.port, location.hostLabels.count == image.hostLabels.count else { return false }
    return zip(location.hostLabels, image.hostLabels).allSatisfy { Glob.matches($0, $1) }
  }
}

/// The part of an image a `matchImages` pattern (or a registry key) failed on, in the order the
/// kubelet's `URLsMatch` checks them: host label count, each host label as a glob, port, path prefix.
public enum PatternMismatch: Sendable, Equatable, CustomStringConvertible {
  /// Go's `url.Parse` rejects this text (the pattern or the image), so the kubelet never matches it.
  case unparsable(String)
  /// The hosts have different numbers of dot-separated labels (a glob never crosses a dot).
  case labelCount(pattern: String, patternCount: Int, image: String, imageCount: Int)
  /// Host label `index` (from 0) does not match as a glob.
  case label(index: Int, pattern: String, image: String)
  /// The ports differ; "" is no port, which is a value of its own.
  case port(pattern: String, image: String)
  /// The pattern's path is not a string prefix of the image's path.
  case pathPrefix(pattern: String, image: String)

  /// Which part failed, one word for JSON: `url`, `labels`, `label`, `port`, `path`.
  public var part: String {
    switch self {
    case .unparsable: return "url"
    case .labelCount: return "labels"
    case .label: return "label"
    case .port: return "port"
    case .pathPrefix: return "path"
    }
  }

  /// How far the match got before failing: a higher rank is a closer miss.
  public var rank: Int {
    switch self {
    case .unparsable: return 0
    case .labelCount: return 1
    case .label: return 2
    case .port: return 3
    case .pathPrefix: return 4
    }
  }

  /// `host label "example" does not match "other"`, with input text quoted (Go `%q`).
  public var description: String {
    switch self {
    case .unparsable(let text):
      return "the kubelet's URL parsing rejects \(quoted: text)"
    case .labelCount(let pattern, let patternCount, let image, let imageCount):
      return "host \(quoted: pattern) has \(patternCount) label\(patternCount == 1 ? "" : "s"), the image's \(quoted: image) has \(imageCount) (a glob never crosses a dot)"
    case .label(let index, let pattern, let image):
      return "host label \(index + 1) \(quoted: pattern) does not match \(quoted: image)"
    case .port(let pattern, let image):
      func describe(_ port: String) -> String { port.isEmpty ? "no port" : "port \(port)" }
      return "\(describe(pattern)) in the pattern, \(describe(image)) in the image (ports must be equal)"
    case .pathPrefix(let pattern, let image):
      return image.isEmpty
        ? "path prefix \(quoted: pattern), but the image has no path"
        : "path prefix \(quoted: pattern) does not start the image's path \(quoted: image)"
    }
  }
}

/// The parts of `https://<text>` the kubelet compares, split as Go's `url.Parse` and
/// `net.SplitHostPort` split them.
struct URLLocation: Hashable, Sendable {
  /// Host with optional port (`url.URL.Host`): before the first `/`, without user info, unescaped.
  let authority: String
  /// From the first `/` on (`url.URL.Path`, unescaped), or "".
  let path: String
  /// Whether Go's `url.Parse("https://" + text)` accepts the text; the kubelet never matches
  /// anything it rejects. When false the other fields hold the text split without Go's rules.
  let isValidURL: Bool
  /// The host without port.
  let host: String
  let port: String
  let hostLabels: [String]

  // Scans bytes: every delimiter is ASCII, so splitting there never cuts a UTF-8 sequence, and it is
  // an order of magnitude cheaper than Character-level String operations (this runs for every key).
  init(_ text: String) {
    let bytes = Array(text.utf8)
    let authorityBytes: ArraySlice<UInt8>
    if let parsed = GoURL(afterScheme: bytes[...]) {
      isValidURL = true
      authorityBytes = parsed.host[...]
      path = String(decoding: parsed.path, as: UTF8.self)
    } else {
      isValidURL = false
      let slash = bytes.firstIndex(of: UInt8(ascii: "/")) ?? bytes.count
      authorityBytes = bytes[..<slash]
      path = String(decoding: bytes[slash...], as: UTF8.self)
    }
    authority = String(decoding: authorityBytes, as: UTF8.self)
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

/// The host and path Go's `url.Parse` finds in `scheme://<text>`, or nil where it returns an error
/// (net/url as of Go 1.25.2: the strict bracket and colon rules; both are in every kubelet built
/// with a supported Go). Only what the kubelet reads is kept: the fragment (after `#`), query
/// (after `?`) and user info (up to the last `@`) are dropped; host and path are unescaped.
struct GoURL {
  var host: [UInt8]
  var path: [UInt8]

  init?(afterScheme text: ArraySlice<UInt8>) {
    // "net/url: invalid control character in URL"
    if text.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return nil }
    var rest = text
    if let hash = rest.firstIndex(of: UInt8(ascii: "#")) {
      // The fragment is unescaped too, so a bad escape there fails the whole parse.
      guard Self.unescape(rest[(hash + 1)...], inHost: false) != nil else { return nil }
      rest = rest[..<hash]
    }
    if let question = rest.firstIndex(of: UInt8(ascii: "?")) { rest = rest[..<question] }
    let slash = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
    var authority = rest[..<slash]
    if let at = authority.lastIndex(of: UInt8(ascii: "@")) {
      guard authority[..<at].allSatisfy(Self.isUserinfoByte) else { return nil }  // "invalid userinfo"
      authority = authority[(at + 1)...]
    }
    guard let host = Self.parseHost(authority), let path = Self.unescape(rest[slash...], inHost: false) else { return nil }
    self.host = host
    self.path = path
  }

  /// Go's parseHost for http(s) URLs. Since Go 1.24.8 and 1.25.2 (CVE-2025-47912) it rejects "[" in
  /// a host unless it opens a valid IPv6 literal, so current kubelets never match a key or pattern
  /// with a character class in its host; Pullwarden follows them.
  private static func parseHost(_ host: ArraySlice<UInt8>) -> [UInt8]? {
    let colon = UInt8(ascii: ":")
    if let open = host.lastIndex(of: UInt8(ascii: "[")) {
      // "invalid IP-literal": a bracket anywhere but at the start.
      guard open == host.startIndex, let close = host.lastIndex(of: UInt8(ascii: "]")) else { return nil }
      guard isOptionalPort(host[(close + 1)...]) else { return nil }
      // Go requires netip.ParseAddr to accept an IPv6 address here; this checks its alphabet and
      // that it is not IPv4, which covers what a registry host can be.
      let inner = host[(host.startIndex + 1)..<close]
      guard inner.contains(colon), inner.allSatisfy({ isHexDigitByte($0) || $0 == colon || $0 == UInt8(ascii: ".") }) else {
        return nil
      }
      return Array(host)
    }
    if let first = host.firstIndex(of: colon) {
      // Strict colons for http(s): one colon at most outside brackets, then an optional port.
      guard host.lastIndex(of: colon) == first, isOptionalPort(host[first...]) else { return nil }
    }
    return unescape(host, inHost: true)
  }

  /// ":" followed by digits, or nothing, or a lone ":".
  private static func isOptionalPort(_ text: ArraySlice<UInt8>) -> Bool {
    guard let first = text.first else { return true }
    return first == UInt8(ascii: ":") && text.dropFirst().allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
  }

  /// Go's unescape in encodeHost or encodePath/encodeFragment mode: `%XX` decoded (in a host only
  /// for non-ASCII bytes or `%25`), and in a host any ASCII byte Go would escape is an error.
  private static func unescape(_ text: ArraySlice<UInt8>, inHost: Bool) -> [UInt8]? {
    var output: [UInt8] = []
    output.reserveCapacity(text.count)
    var index = text.startIndex
    while index < text.endIndex {
      let byte = text[index]
      if byte == UInt8(ascii: "%") {
        // "invalid URL escape"
        guard index + 2 < text.endIndex, let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2]) else {
          return nil
        }
        if inHost && high < 8 && !(high == 2 && low == 5) { return nil }
        output.append(high << 4 | low)
        index += 3
        continue
      }
      if inHost && byte < 0x80 && !isHostByte(byte) { return nil }  // "invalid character in host name"
      output.append(byte)
      index += 1
    }
    return output
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
  }

  private static func isHexDigitByte(_ byte: UInt8) -> Bool { hexValue(byte) != nil }

  private static func isAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
  }

  /// Bytes shouldEscape(c, encodeHost) lets through.
  private static func isHostByte(_ byte: UInt8) -> Bool {
    isAlphanumeric(byte) || "-_.~!$&'()*+,;=:[]<>\"".utf8.contains(byte)
  }

  /// Go's validUserinfo.
  private static func isUserinfoByte(_ byte: UInt8) -> Bool {
    byte >= 0x80 || isAlphanumeric(byte) || "-._:~!$&'()*+,;=%@".utf8.contains(byte)
  }
}
