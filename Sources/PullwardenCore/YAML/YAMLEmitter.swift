/// Writes a `JSONValue` as block-style YAML, for `-o yaml` (kubectl's style: `key: value`, sequences
/// under a key not indented, `{}` and `[]` for empty collections).
///
/// Every string that any YAML reader could take for something else is double-quoted: whatever YAML 1.1
/// (go-yaml v2, kubectl) or 1.2 (core schema) would type as a boolean, null, number or timestamp
/// (`yes`, `on`, `~`, `0755`, `1e3`, `2024-01-02`), empty text, text starting with an indicator
/// (`-`, `*`, `&`, `!`, `|`, `>`, `%`, `@`, …) or a space, and text holding `: `, ` #`, a quote, a flow
/// character or a control character. Plain style is kept only for text that starts with a letter, `/`
/// or `_` and holds nothing but letters, digits, single inner spaces and `_ . / @ + - :`.
public enum YAMLEmitter {
  /// The document, ending with a newline; no `---` marker.
  public static func emit(_ value: JSONValue) -> String {
    switch value {
    case .array(let items) where !items.isEmpty: return block(value, indent: 0).joined(separator: "\n") + "\n"
    case .object(let object) where !object.isEmpty: return block(value, indent: 0).joined(separator: "\n") + "\n"
    default: return scalar(value) + "\n"
    }
  }

  /// The lines of a non-empty collection, each starting with `indent` spaces.
  private static func block(_ value: JSONValue, indent: Int) -> [String] {
    let pad = String(repeating: " ", count: indent)
    var lines: [String] = []
    switch value {
    case .object(let object):
      for member in object.members {
        let key = pad + string(member.key) + ":"
        switch member.value {
        case .object(let child) where !child.isEmpty:
          lines.append(key)
          lines += block(member.value, indent: indent + 2)
        case .array(let child) where !child.isEmpty:
          lines.append(key)
          lines += block(member.value, indent: indent)
        default:
          lines.append(key + " " + scalar(member.value))
        }
      }
    case .array(let items):
      for item in items {
        switch item {
        case .object(let child) where !child.isEmpty:
          lines += bulleted(block(item, indent: indent + 2), pad: pad)
        case .array(let child) where !child.isEmpty:
          lines += bulleted(block(item, indent: indent + 2), pad: pad)
        default:
          lines.append(pad + "- " + scalar(item))
        }
      }
    default:
      lines.append(pad + scalar(value))
    }
    return lines
  }

  /// A nested block as one sequence entry: its first line's indentation becomes `- `.
  private static func bulleted(_ lines: [String], pad: String) -> [String] {
    guard let first = lines.first else { return [] }
    return [pad + "- " + first.dropFirst(pad.count + 2)] + lines.dropFirst()
  }

  private static func scalar(_ value: JSONValue) -> String {
    switch value {
    case .null: return "null"
    case .bool(let flag): return flag ? "true" : "false"
    case .integer(let number): return String(number)
    case .real(let number):
      if number.isNaN { return ".nan" }
      if number.isInfinite { return number < 0 ? "-.inf" : ".inf" }
      return "\(number)"
    case .string(let text): return string(text)
    case .array: return "[]"
    case .object: return "{}"
    }
  }

  /// `text` plain when no reader can mistake it, double-quoted otherwise: Go's `%q`
  /// (`Escaping.quoted`), whose escapes (`\n`, `\t`, `\a`, `\v`, `\x1b`, `\u2028`, `\U0001f600`...)
  /// are all YAML double-quoted escapes, so every non-printing scalar, bidirectional control included,
  /// is written escaped and the text stays on its line.
  static func string(_ text: String) -> String {
    isSafePlain(text) ? text : Escaping.quoted(text)
  }

  /// Spellings YAML 1.1 or 1.2 reads as a boolean or null, in any case (`oN` too: cheaper than
  /// knowing which readers are case-sensitive).
  private static let reserved: Set<String> = ["y", "yes", "n", "no", "true", "false", "on", "off", "null"]

  static func isSafePlain(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard let first = bytes.first, let last = bytes.last else { return false }
    guard isLetter(first) || first == UInt8(ascii: "/") || first == UInt8(ascii: "_") else { return false }
    guard last != UInt8(ascii: " ") && last != UInt8(ascii: ":") else { return false }
    for (index, byte) in bytes.enumerated() {
      switch byte {
      case UInt8(ascii: " "):
        // One inner space, not before `#` (a comment) or another space.
        let next = bytes[index + 1]
        if next == UInt8(ascii: " ") || next == UInt8(ascii: "#") { return false }
      case UInt8(ascii: ":"):
        // `: ` ends a key; `:` before anything else is text.
        if bytes[index + 1] == UInt8(ascii: " ") { return false }
      case UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "@"), UInt8(ascii: "+"), UInt8(ascii: "-"):
        continue
      default:
        if !isLetter(byte) && !YAMLSchema.isDigit(byte) { return false }
      }
    }
    if reserved.contains(text.lowercased()) { return false }
    // Whatever else either schema types (belt and braces: the rules above already exclude numbers).
    return YAMLSchema.resolveCore(text) == .string(text) && YAMLSchema.resolveKubernetes(text) == .string(text)
  }

  private static func isLetter(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
  }
}
