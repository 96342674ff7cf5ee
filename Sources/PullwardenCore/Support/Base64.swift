/// Base64 decoding for the two alphabets Pullwarden meets: standard (docker `auth` fields, Secret
/// `data`) and URL-safe (JWT segments).
///
/// Mirrors Go's encoding/base64 decoders (non-strict mode): the alphabet is strict, `\r` and `\n` are
/// skipped anywhere (Go's decoders do, and `kubectl` and editors wrap), any other byte outside the
/// alphabet is an error, and bits past the last full byte are ignored.
public enum Base64 {
  public enum Alphabet: Sendable {
    case standard
    case urlSafe
  }

  /// How `=` padding is treated, matching one of Go's encodings.
  public enum Padding: Sendable {
    /// `base64.StdEncoding` / `URLEncoding`: the text is whole quartets, the last one padded with
    /// `=` as needed. What Go uses for `[]byte` fields in JSON (Secret `data`, kubeconfig CA data).
    case required
    /// `base64.RawStdEncoding` / `RawURLEncoding`: no padding at all; `=` is an illegal byte.
    case forbidden
    /// Either of the above (JWT segments, which some issuers pad).
    case optional
  }

  /// The decoded bytes, or nil when `text` is not valid base64 in `alphabet` with `padding`.
  ///
  /// When padding is present it must be correct: "YQ==" decodes, "YQ=" and "YQ===" do not.
  public static func decode(_ text: String, alphabet: Alphabet = .standard, padding mode: Padding) -> [UInt8]? {
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
    if padding > 0 && (mode == .forbidden || padding > 2 || (values.count + padding) % 4 != 0) { return nil }
    // Go's padded decoders reject a final quartet that is neither full nor padded.
    if padding == 0 && mode == .required && remainder != 0 { return nil }

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
