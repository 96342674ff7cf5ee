/// Writes a `JSONValue` as block-style YAML, for `-o yaml` outputs that kubectl users read.
///
/// The output is the same value as the JSON (a YAML 1.2 core-schema reader gets it back unchanged):
/// a string is written plain only when it cannot be read as anything else (no indicator character,
/// no leading or trailing space, not a number, boolean or null in YAML 1.1 or 1.2); every other
/// string is double-quoted with YAML escapes, and every character that does not print (control
/// characters, line separators, bidirectional overrides, a byte-order mark) is escaped, so tenant
/// text cannot break a line, start a new key or hide itself. Keys follow the same rule. Work is
/// linear in the size of the value.
public enum YAMLEmitter {
  public static func emit(_ value: JSONValue) -> String {
    var out = ""
    switch value {
    case .object(let object) where !object.isEmpty:
      writeMembers(object, indent: 0, into: &out)
    case .array(let array) where !array.isEmpty:
      writeItems(array, indent: 0, into: &out)
    default:
      out += scalar(value) + "\n"
    }
    return out
  }

  /// `value` as one item of a block list at the left margin (`- …`), for lists written item by item.
  public static func listItem(_ value: JSONValue) -> String {
    var out = ""
    writeItems([value], indent: 0, into: &out)
    return out
  }

  private static func writeMembers(_ object: JSONObject, indent: Int, into out: inout String) {
    let pad = String(repeating: " ", count: indent)
    for member in object.members {
      out += pad + string(member.key) + ":"
      writeNested(member.value, indent: indent, into: &out)
    }
  }

  private static func writeItems(_ array: [JSONValue], indent: Int, into out: inout String) {
    let pad = String(repeating: " ", count: indent)
    for element in array {
      switch element {
      case .object(let object) where !object.isEmpty:
        // `- key: value`, the rest of the members under the first, two spaces in.
        var nested = ""
        writeMembers(object, indent: indent + 2, into: &nested)
        out += pad + "- " + String(nested.dropFirst(indent + 2))
      case .array(let inner) where !inner.isEmpty:
        out += pad + "-\n"
        writeItems(inner, indent: indent + 2, into: &out)
      default:
        out += pad + "- " + scalar(element) + "\n"
      }
    }
  }

  /// The value after `key:`: a scalar on the same line, a collection on the lines below.
  private static func writeNested(_ value: JSONValue, indent: Int, into out: inout String) {
    switch value {
    case .object(let object) where !object.isEmpty:
      out += "\n"
      writeMembers(object, indent: indent + 2, into: &out)
    case .array(let array) where !array.isEmpty:
      // kubectl's style: list items at the key's indentation.
      out += "\n"
      writeItems(array, indent: indent, into: &out)
    default:
      out += " " + scalar(value) + "\n"
    }
  }

  static func scalar(_ value: JSONValue) -> String {
    switch value {
    case .null: return "null"
    case .bool(let flag): return flag ? "true" : "false"
    case .integer(let number): return String(number)
    case .real(let number): return number.isFinite ? "\(number)" : "null"
    case .string(let text): return string(text)
    case .array: return "[]"
    case .object: return "{}"
    }
  }

  /// Words YAML 1.1 or 1.2 readers turn into something other than a string.
  private static let reserved: Set<String> = [
    "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO",
    "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "-.inf", "-.Inf",
    "-.INF", "+.inf", "+.Inf", "+.INF", "<<", "=",
  ]

  /// `text` plain when that is safe, else double-quoted.
  public static func string(_ text: String) -> String {
    isSafePlain(text) ? text : quoted(text)
  }

  /// Plain only for letters, digits and `-_./:@+` that neither start with an indicator nor read as
  /// a number (anything that starts with a digit, a sign or a dot followed by a digit is quoted), and
  /// contain no `: ` or ` #`.
  static func isSafePlain(_ text: String) -> Bool {
    if reserved.contains(text) { return false }
    let bytes = Array(text.utf8)
    guard let first = bytes.first else { return false }
    let isLetter = (first >= 0x41 && first <= 0x5A) || (first >= 0x61 && first <= 0x7A) || first == 0x5F || first == 0x2F
    guard isLetter else { return false }
    for byte in bytes {
      switch byte {
      case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x5F, 0x2E, 0x2F, 0x40, 0x2B: continue
      // A colon only when no space follows (none can: spaces are not allowed) and not at the end.
      case 0x3A: continue
      default: return false
      }
    }
    return bytes.last != 0x3A
  }

  /// A YAML double-quoted scalar. Go's `%q` (`Escaping.quoted`) writes exactly YAML's escapes: `\"`,
  /// `\\`, `\a \b \t \n \v \f \r`, `\xHH`, `\uHHHH`, `\UHHHHHHHH`, for every scalar that does not print.
  public static func quoted(_ text: String) -> String {
    Escaping.quoted(text)
  }
}
