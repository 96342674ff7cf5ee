/// How two `matchImages` patterns relate, for `config check`: whether every image one matches the other
/// matches too (`covers`), and whether some image could match both (`overlaps`).
///
/// Both are decided label by label with the kubelet's rules (equal label counts, equal ports, each
/// label a glob, the path a plain prefix). Where two globs meet, only what can be shown from their
/// text counts: `covers` answers false unless it is certain, so a warning built on it is never wrong.
extension ImagePattern {
  /// Whether every image `inner` matches, this pattern matches too.
  public func covers(_ inner: ImagePattern) -> Bool {
    let outerLocation = location, innerLocation = inner.location
    guard outerLocation.isValidURL, innerLocation.isValidURL, outerLocation.port == innerLocation.port,
      outerLocation.hostLabels.count == innerLocation.hostLabels.count, innerLocation.path.hasPrefix(outerLocation.path)
    else { return false }
    return zip(outerLocation.hostLabels, innerLocation.hostLabels).allSatisfy { outer, inner in
      if !Self.hasGlob(inner) { return Glob.matches(outer, inner) }
      return outer == "*" || outer == inner
    }
  }

  /// Whether some image could match both patterns.
  public func overlaps(_ other: ImagePattern) -> Bool {
    let a = location, b = other.location
    guard a.isValidURL, b.isValidURL, a.port == b.port, a.hostLabels.count == b.hostLabels.count,
      a.path.hasPrefix(b.path) || b.path.hasPrefix(a.path)
    else { return false }
    return zip(a.hostLabels, b.hostLabels).allSatisfy { Self.labelsOverlap($0, $1) }
  }

  /// Whether the pattern names the same registry host as `key` except for the port: the sign of a
  /// pattern written without the port its images use.
  func differsOnlyInPort(from key: RegistryKey) -> Bool { differsOnlyInPort(from: URLLocation(key.text)) }

  func differsOnlyInPort(from keyLocation: URLLocation) -> Bool {
    guard location.isValidURL, keyLocation.isValidURL, location.port != keyLocation.port,
      location.hostLabels.count == keyLocation.hostLabels.count
    else { return false }
    return zip(location.hostLabels, keyLocation.hostLabels).allSatisfy { Glob.matches($0, $1) }
  }

  /// The pattern with `key`'s port: what to write instead.
  func withPort(of key: RegistryKey) -> String { withPort(URLLocation(key.text).port) }

  func withPort(_ port: String) -> String { location.host + (port.isEmpty ? "" : ":" + port) + location.path }

  var hostLabels: [String] { location.hostLabels }
  var host: String { location.host }

  static func hasGlob(_ label: String) -> Bool {
    label.utf8.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "\\") }
  }

  /// Two labels some host label could match both of: a literal against the other as a glob; two globs
  /// when their literal beginnings and endings agree (`team*` and `*-prod` meet in `team-prod`).
  static func labelsOverlap(_ a: String, _ b: String) -> Bool {
    if !hasGlob(a) { return Glob.matches(b, a) }
    if !hasGlob(b) { return Glob.matches(a, b) }
    func literalPrefix(_ text: String) -> Substring { text.prefix { !hasGlob(String($0)) } }
    func literalSuffix(_ text: String) -> String { String(text.reversed().prefix { !hasGlob(String($0)) }.reversed()) }
    let (prefixA, prefixB) = (literalPrefix(a), literalPrefix(b))
    let (suffixA, suffixB) = (literalSuffix(a), literalSuffix(b))
    return (prefixA.hasPrefix(prefixB) || prefixB.hasPrefix(prefixA)) && (suffixA.hasSuffix(suffixB) || suffixB.hasSuffix(suffixA))
  }
}
