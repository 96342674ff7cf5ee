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

  /// Go's `appendString(dst, src, escapeHTML: true)` for a Swift string (always valid UTF-8).
  static func appendString(_ text: String, to output: inout [UInt8]) {
    let done: Void? = text.utf8.withContiguousStorageIfAvailable { appendString(utf8: $0, to: &output) }
    if done == nil { appendString(utf8: Array(text.utf8), to: &output) }
  }

  /// A JSON string holding `bytes`, byte for byte as `json.Marshal(string(bytes))`.
  static func encodeString(utf8 bytes: [UInt8]) -> [UInt8] {
    var output: [UInt8] = []
    appendString(utf8: bytes, to: &output)
    return output
  }

  /// Go's `appendString(dst, src, escapeHTML: true)` on raw bytes: each byte that does not start a
  /// valid UTF-8 sequence (utf8.DecodeRune's RuneError with size 1) becomes `\ufffd`, so the output
  /// is the same as Go's even for text that did not come through a Swift String.
  static func appendString<Bytes: Collection<UInt8>>(utf8 text: Bytes, to output: inout [UInt8]) where Bytes.Index == Int {
    let hex: [UInt8] = Array("0123456789abcdef".utf8)
    output.append(UInt8(ascii: "\""))
    var index = text.startIndex
    while index < text.endIndex {
      let byte = text[index]
      if byte < 0x80 {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
          output += [UInt8(ascii: "\\"), byte]
        // \b and \f as short escapes since Go 1.22 (earlier Go wrote \u0008 and \u000c).
        case 0x08: output += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
        case 0x0C: output += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
        case 0x0A: output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
        case 0x0D: output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
        case 0x09: output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
        case 0x00..<0x20, UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"):
          output += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
        default:
          output.append(byte)
        }
        index += 1
        continue
      }
      guard let length = validSequenceLength(text, at: index) else {
        output += "\\ufffd".utf8
        index += 1
        continue
      }
      // U+2028 and U+2029 (E2 80 A8, E2 80 A9) are escaped: JavaScript treats them as line ends.
      if length == 3 && byte == 0xE2 && text[index + 1] == 0x80 && (text[index + 2] == 0xA8 || text[index + 2] == 0xA9) {
        output += "\\u202".utf8
        output.append(hex[Int(text[index + 2] & 0xF)])
      } else {
        output += text[index..<(index + length)]
      }
      index += length
    }
    output.append(UInt8(ascii: "\""))
  }

  /// The length of the well-formed UTF-8 sequence starting at `index`, or nil where Go's
  /// utf8.DecodeRune reports an error: no overlong forms, no surrogates, nothing above U+10FFFF.
  private static func validSequenceLength<Bytes: Collection<UInt8>>(_ text: Bytes, at index: Int) -> Int? where Bytes.Index == Int {
    let first = text[index]
    let available = text.endIndex - index
    func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
      offset < available && range.contains(text[index + offset])
    }
    switch first {
    case 0xC2...0xDF: return continuation(1) ? 2 : nil
    case 0xE0: return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : nil
    case 0xED: return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : nil
    case 0xE1...0xEF: return continuation(1) && continuation(2) ? 3 : nil
    case 0xF0: return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : nil
    case 0xF4: return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : nil
    case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : nil
    default: return nil
    }
  }
}
