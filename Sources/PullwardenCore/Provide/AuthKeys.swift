/// Turns the credentials sources supplied, in preference order, into the response's `auth` map.
///
/// The kubelet tries every key that matches an image, in reverse byte order of the keys, and a JSON
/// object holds each key once. Credentials under distinct keys keep their keys: reverse order then
/// puts `quay.io/team` before `quay.io`, the more specific first. When several credentials share a
/// key, the first keeps it and each later one gets an *alias*: the same key with one host letter
/// written as a one-character glob class (`registry.io` → `registry.i[o]` → `registry.[i]o`). An
/// alias matches exactly the images the key matches, and sorts after it, so the kubelet tries the
/// credentials in preference order. Hosts with a port cannot be aliased (the kubelet cannot split
/// `host[x]:port`), nor can hosts that are already globs; later credentials for such keys are
/// dropped and reported.
public enum AuthKeys {
  public struct Assignment: Sendable {
    /// Entries in the order the kubelet will try them.
    public var auth: [(key: String, credential: RegistryCredential)]
    /// Credentials that could not be given a distinct key.
    public var dropped: [SuppliedCredential]
  }

  public static func assign(_ supplied: [SuppliedCredential]) -> Assignment {
    // Group by natural key in first-appearance order, dropping exact repeats.
    var order: [String] = []
    var groups: [String: [SuppliedCredential]] = [:]
    for item in supplied {
      let key = item.key.text
      if groups[key] == nil {
        order.append(key)
        groups[key] = []
      }
      if groups[key]!.contains(where: { $0.credential.username == item.credential.username && $0.credential.password == item.credential.password }) {
        continue
      }
      groups[key]!.append(item)
    }

    var used = Set(order)
    var auth: [(key: String, credential: RegistryCredential)] = []
    var dropped: [SuppliedCredential] = []
    for key in order {
      let group = groups[key]!
      auth.append((key, group[0].credential))
      guard group.count > 1 else { continue }
      var aliases = aliasKeys(for: key).filter { !used.contains($0) }.makeIterator()
      for extra in group.dropFirst() {
        if let alias = aliases.next() {
          used.insert(alias)
          auth.append((alias, extra.credential))
        } else {
          dropped.append(extra)
        }
      }
    }
    auth.sort { $1.key.utf8.lexicographicallyPrecedes($0.key.utf8) }
    return Assignment(auth: auth, dropped: dropped)
  }

  /// Keys equivalent to `key` for matching, each sorting below the previous one, or none when the
  /// host has a port or glob characters.
  static func aliasKeys(for key: String) -> [String] {
    let slash = key.firstIndex(of: "/") ?? key.endIndex
    let host = key[..<slash]
    let path = key[slash...]
    if host.contains(where: { ":*?[]\\".contains($0) }) { return [] }
    var aliases: [String] = []
    // Right to left: wrapping an earlier letter yields a smaller string than wrapping a later one,
    // and '[' sorts below every lower-case letter, so each alias sorts below the one before.
    var index = host.endIndex
    while index > host.startIndex {
      index = host.index(before: index)
      let character = host[index]
      guard let ascii = character.asciiValue, ascii >= UInt8(ascii: "a"), ascii <= UInt8(ascii: "z") else { continue }
      aliases.append(String(host[..<index]) + "[" + String(character) + "]" + String(host[host.index(after: index)...]) + path)
    }
    return aliases
  }
}
