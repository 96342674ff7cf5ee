/// Base64 decoding for the two alphabets Pullwarden meets: standard (docker `auth` fields, Secret
/// `data`) and URL-safe (JWT segments).
///
/// Go's decoders are strict about the alphabet and about padding when it is present; so is this one.
/// Line breaks (`\r`, `\n`) are skipped, as Go's StdEncoding does, because `kubectl` and editors wrap.
public enum Base64 {
  public enum Alphabet: Sendable {
    case standard
    case urlSafe
  }

  /// The decoded bytes, or nil when `text` is not valid base64 in `alphabet`.
  ///
  /// Padding is optional; when present it must be correct (so "YQ" and "YQ==" decode, "YQ=" does not).
  public static func decode(_ text: String, alphabet: Alphabet = .standard) -> [UInt8]? {
    var values: [UInt8] = []
    values.reserveCapacity(text.utf8.count)
    var padding = 0
    for byte in text.utf8 {
      if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { continue }
      if byte == UInt8(ascii: "=") {
        padding += 1
        continue
      }
      // Data after padding is malformed.
      if padding > 0 { return nil }
      guard let value = sextet(byte, alphabet) else { return nil }
      values.append(value)
    }
    let remainder = values.count % 4
    if remainder == 1 { return nil }
    if padding > 0 && (padding > 2 || (values.count + padding) % 4 != 0) { return nil }

    var output: [UInt8] = []
    output.reserveCapacity(values.count * 3 / 4)
    var index = 0
    while index + 4 <= values.count {
      let a = values[index], b = values[index + 1], c = values[index + 2], d = values[index + 3]
      output.append(a << 2 | b >> 4)
      output.append(b << 4 | c >> 2)
      output.append(c << 6 | d)
      index += 4
    }
    if remainder == 2 {
      // Bits past the last full byte are ignored, as Go's (non-strict) decoders do.
      let a = values[index], b = values[index + 1]
      output.append(a << 2 | b >> 4)
    } else if remainder == 3 {
      let a = values[index], b = values[index + 1], c = values[index + 2]
      output.append(a << 2 | b >> 4)
      output.append(b << 4 | c >> 2)
    }
    return output
  }

  /// Standard base64 with padding.
  public static func encode(_ bytes: some Collection<UInt8>, alphabet: Alphabet = .standard) -> String {
    let table: [UInt8] = Array(
      (alphabet == .standard
        ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_").utf8)
    var output: [UInt8] = []
    output.reserveCapacity((bytes.count + 2) / 3 * 4)
    var iterator = bytes.makeIterator()
    while let a = iterator.next() {
      let b = iterator.next()
      let c = iterator.next()
      output.append(table[Int(a >> 2)])
      output.append(table[Int((a & 0x03) << 4 | (b ?? 0) >> 4)])
      output.append(b.map { table[Int(($0 & 0x0F) << 2 | (c ?? 0) >> 6)] } ?? UInt8(ascii: "="))
      output.append(c.map { table[Int($0 & 0x3F)] } ?? UInt8(ascii: "="))
    }
    if alphabet == .urlSafe {
      while output.last == UInt8(ascii: "=") { output.removeLast() }
    }
    return String(decoding: output, as: UTF8.self)
  }

  private static func sextet(_ byte: UInt8, _ alphabet: Alphabet) -> UInt8? {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
    case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
    case UInt8(ascii: "+") where alphabet == .standard: return 62
    case UInt8(ascii: "/") where alphabet == .standard: return 63
    case UInt8(ascii: "-") where alphabet == .urlSafe: return 62
    case UInt8(ascii: "_") where alphabet == .urlSafe: return 63
    default: return nil
    }
  }
}
