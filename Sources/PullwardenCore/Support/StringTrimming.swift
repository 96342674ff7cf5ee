extension String {
  /// The text without leading and trailing spaces, tabs, CRs and LFs.
  ///
  /// Compares UTF-8 bytes, not Characters: "\r\n" is one Character in Swift, equal to neither "\r" nor
  /// "\n", so a Character test never trims a CRLF line ending.
  func trimmingASCIIWhitespace() -> String {
    func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
    let bytes = utf8
    guard let start = bytes.firstIndex(where: { !isSpace($0) }) else { return "" }
    let end = bytes.lastIndex(where: { !isSpace($0) })!
    if start == bytes.startIndex && bytes.index(after: end) == bytes.endIndex { return self }
    // The cut points are next to ASCII bytes, so both slices are whole characters.
    return String(decoding: bytes[start...end], as: UTF8.self)
  }
}
