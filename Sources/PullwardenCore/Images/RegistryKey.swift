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
    var bytes = Array(raw.utf8)[...]
    // One scheme at most: the kubelet prefixes https:// unless the key has either.
    if let scheme = ["https://", "http://"].first(where: { bytes.starts(with: $0.utf8) }) {
      bytes = bytes.dropFirst(scheme.utf8.count)
    }
    // url.Parse: a key it rejects is skipped; query, fragment and user info are dropped and host
    // and path unescaped (so "a%2Fb" is the path "a/b").
    guard let parsed = GoURL(afterScheme: bytes) else { return nil }
    let host = parsed.host
    var path = parsed.path[...]
    if path.starts(with: "/v1/".utf8) || path.starts(with: "/v2/".utf8) { path = path.dropFirst(3) }
    if path.elementsEqual("/".utf8) { path = [] }
    // The kubelet keeps a key with no host, but it can never match an image.
    guard !host.isEmpty else { return nil }
    let hostText = host.elementsEqual("index.docker.io".utf8) ? "docker.io" : String(decoding: host, as: UTF8.self)
    self.init(normalized: hostText + String(decoding: path, as: UTF8.self))
  }

  /// A key that is already in normalized form (from `text` of another key, e.g. a cache file).
  init(normalized text: String) {
    self.text = text
    self.pattern = ImagePattern(unvalidated: text)
  }

  /// Whether the kubelet's keyring would use this key for `image`.
  public func matches(_ image: ImageReference) -> Bool {
    pattern.matches(URLLocation(image: image))
  }

  func matches(_ image: URLLocation) -> Bool { pattern.matches(image) }

  /// Why the kubelet's keyring would not use this key for `image`; nil when it would.
  func mismatch(_ image: URLLocation) -> PatternMismatch? { pattern.mismatch(image) }

  /// Whether this key names the same registry (host and port) as `image`, whatever its path.
  func matchesRegistry(of image: URLLocation) -> Bool { pattern.matchesRegistry(of: image) }

  /// Byte-wise order, the order Go's sort.Strings uses for the keyring index.
  public static func < (lhs: RegistryKey, rhs: RegistryKey) -> Bool {
    lhs.text.utf8.lexicographicallyPrecedes(rhs.text.utf8)
  }
}
