/// Turns the credentials sources supplied, in preference order, into the response's `auth` map.
///
/// The kubelet tries every key that matches an image, in reverse byte order of the keys, and a JSON
/// object holds each key once. Credentials under distinct keys keep their keys: reverse order then
/// puts `quay.io/team` before `quay.io`, the more specific first. When several credentials share a
/// key, the first keeps it and each later one gets an *alias*: the key with a URL fragment
/// (`registry.io#2`, `registry.io#3`, …). The kubelet's keyring parses every key as a URL
/// (`BasicDockerKeyring.Add`) and drops the fragment, so an alias files its credential under the very
/// same key: the kubelet keeps them all and tries each for every image the key matches, in an order of
/// its own (Go map order). Every kind of key can be aliased this way: ported hosts, globs, paths.
///
/// An earlier scheme wrote one host letter as a glob class (`registry.i[o]`) to keep the order, but
/// since Go 1.24.8 / 1.25.2 the kubelet's URL parser rejects a `[` in a host, so such a key was
/// skipped and its credential lost (found by the Go vectors, `scripts/generate-go-vectors`).
public enum AuthKeys {
  public struct Assignment: Sendable {
    /// Entries, each key's credentials together, keys in the order the kubelet tries them.
    public var auth: [(key: String, credential: RegistryCredential)]
    /// For each entry of `auth`, in the same order: the credential as supplied (origin, source) and
    /// the key the kubelet files it under (an alias's key without its fragment).
    public var supplied: [(credential: SuppliedCredential, kubeletKey: String)]
    /// Credentials left out because an earlier one has the same key, username and password.
    public var repeats: [SuppliedCredential]
  }

  public static func assign(_ supplied: [SuppliedCredential]) -> Assignment {
    // One credential, the common answer: nothing to group, alias or order. The general path below
    // gives the same result, but its dictionary, set and sort cost provide 70k instructions (Step 10).
    if supplied.count == 1, let only = supplied.first {
      return Assignment(auth: [(only.key.text, only.credential)], supplied: [(only, only.key.text)], repeats: [])
    }
    // Group by natural key in first-appearance order, dropping exact repeats.
    var order: [String] = []
    var groups: [String: [SuppliedCredential]] = [:]
    var repeats: [SuppliedCredential] = []
    for item in supplied {
      let key = item.key.text
      if groups[key] == nil {
        order.append(key)
        groups[key] = []
      }
      if groups[key]!.contains(where: { $0.credential.username == item.credential.username && $0.credential.password == item.credential.password }) {
        repeats.append(item)
        continue
      }
      groups[key]!.append(item)
    }

    var used = Set(order)
    var entries: [(group: String, key: String, credential: SuppliedCredential)] = []
    for key in order {
      let group = groups[key]!
      entries.append((key, key, group[0]))
      var aliases = aliasKeys(for: key).lazy.filter { !used.contains($0) }.makeIterator()
      for extra in group.dropFirst() {
        // The sequence never ends, and a source's keys cannot use '#' (normalizing drops fragments).
        let alias = aliases.next()!
        used.insert(alias)
        entries.append((key, alias, extra))
      }
    }
    // Reverse byte order of the keys the kubelet files them under; a key's aliases stay after it.
    let sorted = entries.enumerated().sorted { a, b in
      a.element.group == b.element.group ? a.offset < b.offset : b.element.group.utf8.lexicographicallyPrecedes(a.element.group.utf8)
    }
    return Assignment(
      auth: sorted.map { ($0.element.key, $0.element.credential.credential) },
      supplied: sorted.map { ($0.element.credential, $0.element.group) }, repeats: repeats)
  }

  /// Keys the kubelet files under the same key as `key`: `key#2`, `key#3`, … (endless, lazily).
  static func aliasKeys(for key: String) -> some Sequence<String> {
    (2...).lazy.map { key + "#\($0)" }
  }
}
