/// Shell-style glob matching with Go's `path/filepath.Match` semantics, which the kubelet applies to
/// each DNS label of a `matchImages` pattern or an `auth` key.
///
/// `*` matches any run of characters except `/`, `?` any one character except `/`, `[a-z]` and
/// `[^a-z]` character classes (which, as in Go, do not exclude `/`), `\c` a literal `c`.
///
/// Registry keys are tenant-written, so matching must not backtrack: this follows Go's algorithm, which
/// splits the pattern into star-separated chunks and commits to the leftmost place each chunk matches.
/// That is correct because a chunk holds no star, and it costs at most one pass over the name per
/// chunk character (O(pattern × name)), never exponential time. Like Go it works on UTF-8 bytes,
/// decoding a rune only where `?` or a class consumes one.
public enum Glob {
  /// Whether `name` matches `pattern`. A malformed pattern matches nothing (the kubelet treats the
  /// error as "no match"); use `validate` to report it instead.
  public static func matches(_ pattern: String, _ name: String) -> Bool {
    var steps = 0
    return (try? match(pattern, name, steps: &steps)) ?? false
  }

  /// Why a pattern is malformed, or nil if it is well-formed (Go's `ErrBadPattern` cases).
  public static func validate(_ pattern: String) -> String? {
    // Go's Match checks the whole pattern when the name is empty: every chunk is parsed to its end.
    var steps = 0
    do {
      _ = try match(pattern, "", steps: &steps)
      return nil
    } catch {
      return error.reason
    }
  }

  struct BadPattern: Error {
    var reason: String

    static let loneBackslash = BadPattern(reason: "pattern ends with a lone \"\\\"")
    static let unterminatedClass = BadPattern(reason: "unterminated character class \"[\"")
    static func unescaped(_ byte: UInt8) -> BadPattern {
      BadPattern(reason: "character class has an unescaped \"\(Character(Unicode.Scalar(byte)))\" where a character was expected")
    }
    static let invalidUTF8 = BadPattern(reason: "character class holds invalid UTF-8")
  }

  private typealias Bytes = ArraySlice<UInt8>

  /// filepath.Match. `steps` counts pattern bytes examined, so tests can bound the work done.
  static func match(_ pattern: String, _ name: String, steps: inout Int) throws(BadPattern) -> Bool {
    var pattern = Array(pattern.utf8)[...]
    var name = Array(name.utf8)[...]
    patternLoop: while !pattern.isEmpty {
      let (star, chunk, rest) = scanChunk(pattern)
      pattern = rest
      if star && chunk.isEmpty {
        // A trailing star matches the rest of the name unless it holds a separator.
        return !name.contains(UInt8(ascii: "/"))
      }
      // The chunk at the current position; the last chunk must also use up the name.
      let (remainder, matched) = try matchChunk(chunk, name, steps: &steps)
      if matched && (remainder.isEmpty || !pattern.isEmpty) {
        name = remainder
        continue
      }
      if star {
        // The leftmost later start (skipping bytes, never a separator) where the chunk matches.
        var skip = name.startIndex
        while skip < name.endIndex && name[skip] != UInt8(ascii: "/") {
          skip += 1
          let (remainder, matched) = try matchChunk(chunk, name[skip...], steps: &steps)
          if matched {
            if pattern.isEmpty && !remainder.isEmpty { continue }
            name = remainder
            continue patternLoop
          }
        }
      }
      // No match: still report a malformed remainder, as Go does.
      while !pattern.isEmpty {
        let (_, chunk, rest) = scanChunk(pattern)
        pattern = rest
        _ = try matchChunk(chunk, [], steps: &steps)
      }
      return false
    }
    return name.isEmpty
  }

  /// Splits off leading stars and the chunk up to the next star outside a class.
  private static func scanChunk(_ pattern: Bytes) -> (star: Bool, chunk: Bytes, rest: Bytes) {
    var pattern = pattern
    var star = false
    while pattern.first == UInt8(ascii: "*") {
      pattern = pattern.dropFirst()
      star = true
    }
    var inClass = false
    var index = pattern.startIndex
    scan: while index < pattern.endIndex {
      switch pattern[index] {
      case UInt8(ascii: "\\"):
        // A lone trailing backslash is reported by matchChunk.
        if index + 1 < pattern.endIndex { index += 1 }
      case UInt8(ascii: "["):
        inClass = true
      case UInt8(ascii: "]"):
        inClass = false
      case UInt8(ascii: "*"):
        if !inClass { break scan }
      default:
        break
      }
      index += 1
    }
    return (star, pattern[..<index], pattern[index...])
  }

  /// Whether `chunk` (no stars) matches the start of `name`, and what of `name` is left.
  ///
  /// After a mismatch the chunk is still parsed to its end without reading `name`, so a malformed
  /// chunk is reported whatever the name.
  private static func matchChunk(_ chunk: Bytes, _ name: Bytes, steps: inout Int) throws(BadPattern) -> (Bytes, Bool) {
    var chunk = chunk
    var name = name
    var failed = false
    while let c = chunk.first {
      steps += 1
      if !failed && name.isEmpty { failed = true }
      switch c {
      case UInt8(ascii: "["):
        var rune: UInt32 = 0
        if !failed {
          let (value, width) = decodeRune(name)
          rune = value
          name = name.dropFirst(width)
        }
        chunk = chunk.dropFirst()
        var negated = false
        if chunk.first == UInt8(ascii: "^") {
          negated = true
          chunk = chunk.dropFirst()
        }
        var matched = false
        var ranges = 0
        while true {
          if chunk.first == UInt8(ascii: "]") && ranges > 0 {
            chunk = chunk.dropFirst()
            break
          }
          steps += 1
          let low = try classCharacter(&chunk)
          var high = low
          if chunk.first == UInt8(ascii: "-") {
            chunk = chunk.dropFirst()
            high = try classCharacter(&chunk)
          }
          if low <= rune && rune <= high { matched = true }
          ranges += 1
        }
        if matched == negated { failed = true }
      case UInt8(ascii: "?"):
        if !failed {
          if name.first == UInt8(ascii: "/") { failed = true }
          name = name.dropFirst(decodeRune(name).width)
        }
        chunk = chunk.dropFirst()
      default:
        var literal = c
        if c == UInt8(ascii: "\\") {
          chunk = chunk.dropFirst()
          guard let escaped = chunk.first else { throw .loneBackslash }
          literal = escaped
        }
        if !failed {
          if name.first != literal { failed = true }
          name = name.dropFirst()
        }
        chunk = chunk.dropFirst()
      }
    }
    return failed ? ([], false) : (name, true)
  }

  /// Go's getEsc: one possibly escaped character of a class; the class must go on after it.
  private static func classCharacter(_ chunk: inout Bytes) throws(BadPattern) -> UInt32 {
    guard let first = chunk.first else { throw .unterminatedClass }
    if first == UInt8(ascii: "-") || first == UInt8(ascii: "]") { throw .unescaped(first) }
    if first == UInt8(ascii: "\\") {
      chunk = chunk.dropFirst()
      if chunk.isEmpty { throw .unterminatedClass }
    }
    let (rune, width) = decodeRune(chunk)
    if rune == replacementCharacter && width == 1 { throw .invalidUTF8 }
    chunk = chunk.dropFirst(width)
    if chunk.isEmpty { throw .unterminatedClass }
    return rune
  }

  private static let replacementCharacter: UInt32 = 0xFFFD

  /// Go's utf8.DecodeRune: the first rune and its width; (U+FFFD, 1) for an invalid or short sequence,
  /// (U+FFFD, 0) for no bytes. A star skips bytes, so a chunk can start inside a multi-byte character.
  static func decodeRune(_ bytes: some Collection<UInt8>) -> (value: UInt32, width: Int) {
    var iterator = bytes.makeIterator()
    guard let b0 = iterator.next() else { return (replacementCharacter, 0) }
    if b0 < 0x80 { return (UInt32(b0), 1) }
    let (width, low, high): (Int, UInt8, UInt8)
    switch b0 {
    case 0xC2...0xDF: (width, low, high) = (2, 0x80, 0xBF)
    case 0xE0: (width, low, high) = (3, 0xA0, 0xBF)  // no overlong forms
    case 0xED: (width, low, high) = (3, 0x80, 0x9F)  // no surrogates
    case 0xE1...0xEF: (width, low, high) = (3, 0x80, 0xBF)
    case 0xF0: (width, low, high) = (4, 0x90, 0xBF)
    case 0xF1...0xF3: (width, low, high) = (4, 0x80, 0xBF)
    case 0xF4: (width, low, high) = (4, 0x80, 0x8F)  // nothing past U+10FFFF
    default: return (replacementCharacter, 1)
    }
    var value = UInt32(b0) & (width == 2 ? 0x1F : width == 3 ? 0x0F : 0x07)
    for position in 1..<width {
      guard let byte = iterator.next() else { return (replacementCharacter, 1) }
      let (min, max): (UInt8, UInt8) = position == 1 ? (low, high) : (0x80, 0xBF)
      guard byte >= min && byte <= max else { return (replacementCharacter, 1) }
      value = value << 6 | UInt32(byte & 0x3F)
    }
    return (value, width)
  }
}
