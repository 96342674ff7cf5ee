/// Shell-style glob matching with Go's `path/filepath.Match` semantics, which the kubelet applies to
/// each DNS label of a `matchImages` pattern or an `auth` key.
///
/// `*` matches any run of characters except `/`, `?` any one character except `/`, `[a-z]` and
/// `[^a-z]` character classes, `\c` a literal `c`.
public enum Glob {
  /// Whether `name` matches `pattern`. A malformed pattern matches nothing (the kubelet treats the
  /// error as "no match"); use `validate` to report it instead.
  public static func matches(_ pattern: String, _ name: String) -> Bool {
    (try? match(Array(pattern.unicodeScalars)[...], Array(name.unicodeScalars)[...])) ?? false
  }

  /// Why a pattern is malformed, or nil if it is well-formed.
  public static func validate(_ pattern: String) -> String? {
    var p = Array(pattern.unicodeScalars)[...]
    while let c = p.first {
      switch c {
      case "\\":
        if p.count < 2 { return "pattern ends with a lone \"\\\"" }
        p = p.dropFirst(2)
      case "[":
        do {
          let (_, rest) = try characterClass(p.dropFirst(), matching: nil)
          p = rest
        } catch {
          return error.reason
        }
      default:
        p = p.dropFirst()
      }
    }
    return nil
  }

  struct BadPattern: Error {
    var reason: String
  }

  private typealias Scalars = ArraySlice<Unicode.Scalar>

  private static func match(_ pattern: Scalars, _ name: Scalars) throws(BadPattern) -> Bool {
    var p = pattern
    var s = name
    while let c = p.first {
      switch c {
      case "*":
        while p.first == "*" { p = p.dropFirst() }
        if p.isEmpty { return !s.contains("/") }
        // Try every split point that does not cross a separator.
        var rest = s
        while true {
          if try match(p, rest) { return true }
          guard let next = rest.first, next != "/" else { return false }
          rest = rest.dropFirst()
        }
      case "?":
        guard let next = s.first, next != "/" else { return false }
        p = p.dropFirst()
        s = s.dropFirst()
      case "[":
        guard let next = s.first else {
          // Still validate the class so a bad pattern is reported consistently.
          _ = try characterClass(p.dropFirst(), matching: nil)
          return false
        }
        let (matched, rest) = try characterClass(p.dropFirst(), matching: next)
        if !matched || next == "/" { return false }
        p = rest
        s = s.dropFirst()
      case "\\":
        guard p.count >= 2 else { throw BadPattern(reason: "pattern ends with a lone \"\\\"") }
        guard s.first == p[p.index(after: p.startIndex)] else { return false }
        p = p.dropFirst(2)
        s = s.dropFirst()
      default:
        guard s.first == c else { return false }
        p = p.dropFirst()
        s = s.dropFirst()
      }
    }
    return s.isEmpty
  }

  /// Parses a class body after `[` and tests `character` against it; returns the rest of the pattern.
  private static func characterClass(
    _ body: Scalars, matching character: Unicode.Scalar?
  ) throws(BadPattern) -> (Bool, Scalars) {
    var p = body
    var negated = false
    if p.first == "^" {
      negated = true
      p = p.dropFirst()
    }
    var matched = false
    var ranges = 0
    while true {
      if p.first == "]" && ranges > 0 {
        p = p.dropFirst()
        break
      }
      let (low, afterLow) = try classCharacter(p)
      p = afterLow
      var high = low
      if p.first == "-" {
        let (h, afterHigh) = try classCharacter(p.dropFirst())
        high = h
        p = afterHigh
      }
      if let character, low <= character && character <= high { matched = true }
      ranges += 1
    }
    return (matched != negated, p)
  }

  private static func classCharacter(_ p: Scalars) throws(BadPattern) -> (Unicode.Scalar, Scalars) {
    guard let c = p.first else { throw BadPattern(reason: "unterminated character class \"[\"") }
    if c == "-" || c == "]" { throw BadPattern(reason: "character class has an unescaped \"\(c)\" where a character was expected") }
    if c == "\\" {
      let rest = p.dropFirst()
      guard let escaped = rest.first else { throw BadPattern(reason: "unterminated character class \"[\"") }
      return (escaped, rest.dropFirst())
    }
    return (c, p.dropFirst())
  }
}
