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
    for scheme in ["https://", "http://"] where bytes.starts(with: scheme.utf8) {
      bytes = bytes.dropFirst(scheme.utf8.count)
    }
    let slash = bytes.firstIndex(of: UInt8(ascii: "/")) ?? bytes.endIndex
    let host = bytes[..<slash]
    var path = bytes[slash...]
    // url.Parse would split these off; registry keys never carry queries or fragments.
    if let cut = path.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) { path = path[..<cut] }
    if path.starts(with: "/v1/".utf8) || path.starts(with: "/v2/".utf8) { path = path.dropFirst(3) }
    if path.elementsEqual("/".utf8) { path = [] }
    guard !host.isEmpty, !host.contains(where: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else { return nil }
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

  /// Whether this key names the same registry (host and port) as `image`, whatever its path.
  func matchesRegistry(of image: URLLocation) -> Bool { pattern.matchesRegistry(of: image) }

  /// Byte-wise order, the order Go's sort.Strings uses for the keyring index.
  public static func < (lhs: RegistryKey, rhs: RegistryKey) -> Bool {
    lhs.text.utf8.lexicographicallyPrecedes(rhs.text.utf8)
  }
}
