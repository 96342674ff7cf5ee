// Substring search and splitting on UTF-8 bytes, in linear time.
//
// The standard library's string-argument `contains(_:)`, `split(separator:)` and `replacing(_:with:)`
// come from `_StringProcessing`, which the binary does not link (its regex tables cost every call
// start-up relocations). Bytes are also what the callers mean: ASCII markers in libcurl messages,
// URL paths, fixed separators in help text.

extension StringProtocol {
  /// Whether `fragment` occurs in the text.
  public func containsText(_ fragment: some StringProtocol) -> Bool {
    let search = ByteSearch(fragment)
    return search.nextMatchEnd(in: Array(utf8), from: 0) != nil
  }

  /// The pieces between non-overlapping occurrences of `separator`, left to right.
  public func splitText(_ separator: some StringProtocol, omittingEmptySubsequences: Bool = false) -> [String] {
    let bytes = Array(utf8)
    let search = ByteSearch(separator)
    var pieces: [String] = []
    var start = 0
    func keep(_ end: Int) {
      if end > start || !omittingEmptySubsequences {
        pieces.append(String(decoding: bytes[start..<end], as: UTF8.self))
      }
    }
    while !search.isEmpty, let end = search.nextMatchEnd(in: bytes, from: start) {
      keep(end - search.count)
      start = end
    }
    keep(bytes.count)
    return pieces
  }
}

/// Knuth–Morris–Pratt over bytes: a fragment can be a tenant's image path, so no quadratic worst case.
private struct ByteSearch {
  private let needle: [UInt8]
  /// fallback[i]: the length of the longest proper prefix of needle[...i] that is also its suffix.
  private let fallback: [Int]

  init(_ fragment: some StringProtocol) {
    let needle = Array(fragment.utf8)
    var fallback = [Int](repeating: 0, count: needle.count)
    var length = 0
    for index in needle.indices.dropFirst() {
      while length > 0 && needle[index] != needle[length] { length = fallback[length - 1] }
      if needle[index] == needle[length] { length += 1 }
      fallback[index] = length
    }
    self.needle = needle
    self.fallback = fallback
  }

  var isEmpty: Bool { needle.isEmpty }
  var count: Int { needle.count }

  /// The offset just past the first occurrence starting at or after `start`; an empty needle matches at once.
  func nextMatchEnd(in bytes: [UInt8], from start: Int) -> Int? {
    guard !needle.isEmpty else { return start }
    var matched = 0
    var index = start
    while index < bytes.count {
      let byte = bytes[index]
      while matched > 0 && byte != needle[matched] { matched = fallback[matched - 1] }
      if byte == needle[matched] { matched += 1 }
      index += 1
      if matched == needle.count { return index }
    }
    return nil
  }
}
