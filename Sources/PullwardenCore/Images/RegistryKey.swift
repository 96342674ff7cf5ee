/// A registry key from a docker config (`auths` entry) in the form the kubelet's keyring stores it.
///
/// Mirrors `BasicDockerKeyring.Add`: a leading `https://` or `http://` is dropped, a path starting with
/// `/v1/` or `/v2/` is cut back to the host (docker treats those as the registry itself), and a path of
/// just `/` is dropped. In addition `index.docker.io` becomes `docker.io`, because the kubelet always
/// sends Docker Hub images as `docker.io/...`; the key then matches them through the ordinary rules
/// instead of the keyring's last-resort Docker Hub fallback.
public struct RegistryKey: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The normalized key, e.g. `registry.example.com`, `quay.io/team`, `*.azurecr.io`.
  public let text: String
  let pattern: ImagePattern

  public var description: String { text }

  /// Normalizes `raw`; nil when nothing usable is left (the kubelet logs and skips such entries).
  public init?(normalizing raw: String) {
    var text = Substring(raw)
    for scheme in ["https://", "http://"] where text.hasPrefix(scheme) {
      text = text.dropFirst(scheme.count)
    }
    let slash = text.firstIndex(of: "/")
    var host = String(text[..<(slash ?? text.endIndex)])
    var path = slash.map { String(text[$0...]) } ?? ""
    // url.Parse would split these off; registry keys never carry queries or fragments.
    if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = String(path[..<cut]) }
    if path.hasPrefix("/v1/") || path.hasPrefix("/v2/") { path = String(path.dropFirst(3)) }
    if path == "/" { path = "" }
    if host == "index.docker.io" { host = "docker.io" }
    guard !host.isEmpty, !host.contains(where: { $0.isWhitespace }) else { return nil }
    self.text = host + path
    self.pattern = ImagePattern(unvalidated: self.text)
  }

  /// Whether the kubelet's keyring would use this key for `image`.
  public func matches(_ image: ImageReference) -> Bool {
    pattern.matches(URLLocation(image: image))
  }

  func matches(_ image: URLLocation) -> Bool { pattern.matches(image) }

  /// Whether this key names the same registry (host and port) as `image`, whatever its path.
  func matchesRegistry(of image: URLLocation) -> Bool { pattern.matchesRegistry(of: image) }

  /// Byte-wise order, the order Go's sort.Strings uses for the keyring index.
  public static func < (lhs: RegistryKey, rhs: RegistryKey) -> Bool {
    lhs.text.utf8.lexicographicallyPrecedes(rhs.text.utf8)
  }
}
