/// JSON encoded byte for byte as Go's `encoding/json` writes it (`json.Marshal`, `json.Encoder`).
///
/// Two things need Go's exact bytes: the KEP-2535 credential hash, which is the SHA-256 of
/// `json.Marshal(AuthConfig)`, and pull records, which should be identical to the files the kubelet
/// writes. jansson's output differs from Go's in string escaping: Go escapes `<`, `>` and `&` as
/// `\u003c`, `\u003e`, `\u0026` (HTML-safe output is its default), U+2028 and U+2029 as `\u2028` and
/// `\u2029`, other control characters as `\u00XX` with lower-case hex, and never escapes `/`.
///
/// Objects are written in their member order (callers sort keys where Go would sort a map). Only the
/// value kinds records and hashes use are exact: strings, booleans, null, integers, arrays, objects.
public enum GoJSON {
  public static func encode(_ value: JSONValue) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(256)
    append(value, to: &output)
    return output
  }

  static func append(_ value: JSONValue, to output: inout [UInt8]) {
    switch value {
    case .null:
      output += "null".utf8
    case .bool(let flag):
      output += (flag ? "true" : "false").utf8
    case .integer(let number):
      output += String(number).utf8
    case .real(let number):
      // Not Go's float formatting; nothing Pullwarden hashes or records holds a float.
      output += String(number).utf8
    case .string(let text):
      appendString(text, to: &output)
    case .array(let elements):
      output.append(UInt8(ascii: "["))
      for (index, element) in elements.enumerated() {
        if index > 0 { output.append(UInt8(ascii: ",")) }
        append(element, to: &output)
      }
      output.append(UInt8(ascii: "]"))
    case .object(let object):
      output.append(UInt8(ascii: "{"))
      for (index, member) in object.members.enumerated() {
        if index > 0 { output.append(UInt8(ascii: ",")) }
        appendString(member.key, to: &output)
        output.append(UInt8(ascii: ":"))
        append(member.value, to: &output)
      }
      output.append(UInt8(ascii: "}"))
    }
  }

  /// Go's `appendString(dst, src, escapeHTML: true)`. Swift strings are valid UTF-8, so Go's
  /// replacement of invalid bytes by `\ufffd` never applies.
  static func appendString(_ text: String, to output: inout [UInt8]) {
    let hex: [UInt8] = Array("0123456789abcdef".utf8)
    output.append(UInt8(ascii: "\""))
    var bytes = text.utf8.makeIterator()
    while let byte = bytes.next() {
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"):
        output += [UInt8(ascii: "\\"), byte]
      case 0x08: output += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
      case 0x0C: output += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
      case 0x0A: output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
      case 0x0D: output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
      case 0x09: output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
      case 0x00..<0x20, UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"):
        output += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
      case 0xE2:
        // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
        let second = bytes.next()
        let third = second == 0x80 ? bytes.next() : nil
        if let third, third == 0xA8 || third == 0xA9 {
          output += "\\u202".utf8
          output.append(hex[Int(third & 0xF)])
        } else {
          output.append(byte)
          if let second { output.append(second) }
          if let third { output.append(third) }
        }
      default:
        output.append(byte)
      }
    }
    output.append(UInt8(ascii: "\""))
  }
}
