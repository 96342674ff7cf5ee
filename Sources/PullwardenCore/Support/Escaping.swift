/// Input text made safe for one line of stderr: the kubelet appends a failing plugin's stderr to its
/// log, so a tenant-written registry key or file name must not be able to start a new line, forge a
/// second message, or send terminal escapes to whoever reads the log.
///
/// Swift strings always hold valid UTF-8 (bytes read from files or directory listings are decoded with
/// U+FFFD for invalid sequences), so what remains to escape are scalars that do not print.
public enum Escaping {
  /// Go's `%q`: the text in double quotes, with `"`, `\` and every non-printing scalar escaped
  /// (`\n`, `\t`, `\x1b`, `\u2028`, ...). Use it where a message names input text.
  public static func quoted(_ text: String) -> String {
    var output = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": output += "\\\""
      case "\\": output += "\\\\"
      default: append(scalar, to: &output)
      }
    }
    return output + "\""
  }

  /// The text with every non-printing scalar escaped and everything else (quotes, backslashes) kept:
  /// the last line of defence where whole messages are written, so no message can span two lines
  /// whether or not its author quoted the input in it.
  public static func line(_ text: String) -> String {
    // The common case (plain ASCII text) is returned as is, without building a new string.
    guard text.unicodeScalars.contains(where: { !isPrintable($0) }) else { return text }
    var output = ""
    output.reserveCapacity(text.utf8.count + 8)
    for scalar in text.unicodeScalars { append(scalar, to: &output) }
    return output
  }

  /// Whether `scalar` prints as itself on a terminal, as Go's strconv.IsPrint decides it: letters,
  /// marks, numbers, punctuation, symbols and the ASCII space; not controls, format characters (bidi
  /// overrides, zero-width joiners), other spaces, line and paragraph separators, private use or
  /// unassigned code points.
  static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
    if scalar.value < 0x7F { return scalar.value >= 0x20 }
    switch scalar.properties.generalCategory {
    case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate, .unassigned:
      return false
    default:
      return true
    }
  }

  private static func append(_ scalar: Unicode.Scalar, to output: inout String) {
    if isPrintable(scalar) {
      output.unicodeScalars.append(scalar)
      return
    }
    switch scalar {
    case "\u{07}": output += "\\a"
    case "\u{08}": output += "\\b"
    case "\u{0C}": output += "\\f"
    case "\n": output += "\\n"
    case "\r": output += "\\r"
    case "\t": output += "\\t"
    case "\u{0B}": output += "\\v"
    default:
      let value = scalar.value
      let (prefix, digits) = value < 0x80 ? ("\\x", 2) : value < 0x10000 ? ("\\u", 4) : ("\\U", 8)
      let hex = String(value, radix: 16)
      output += prefix + String(repeating: "0", count: digits - hex.count) + hex
    }
  }
}

extension String.StringInterpolation {
  /// `"\(quoted: key)"`: input text in a message, Go-`%q`-quoted (see `Escaping.quoted`).
  public mutating func appendInterpolation(quoted text: String) {
    appendLiteral(Escaping.quoted(text))
  }
}
