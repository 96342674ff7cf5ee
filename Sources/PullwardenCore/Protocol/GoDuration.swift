/// A span of time with Go's `time.Duration` text form, which is what the kubelet reads and writes
/// (`cacheDuration`, `defaultCacheDuration`).
///
/// `description` reproduces `Duration.String()` ("5m0s", "1h30m0s", "1.5s", "0s") and
/// `init(parsing:)` accepts exactly what `time.ParseDuration` accepts.
public struct GoDuration: Comparable, Hashable, Sendable, CustomStringConvertible {
  public var nanoseconds: Int64

  public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
  public static func seconds(_ value: Int64) -> GoDuration { GoDuration(nanoseconds: value * 1_000_000_000) }
  public static func minutes(_ value: Int64) -> GoDuration { .seconds(value * 60) }
  public static func hours(_ value: Int64) -> GoDuration { .seconds(value * 3600) }
  public static let zero = GoDuration(nanoseconds: 0)

  public static func < (lhs: GoDuration, rhs: GoDuration) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

  /// Whole seconds, rounded toward zero.
  public var wholeSeconds: Int64 { nanoseconds / 1_000_000_000 }

  public static func - (lhs: GoDuration, rhs: GoDuration) -> GoDuration {
    let (value, overflow) = lhs.nanoseconds.subtractingReportingOverflow(rhs.nanoseconds)
    return GoDuration(nanoseconds: overflow ? (rhs.nanoseconds > 0 ? .min : .max) : value)
  }

  // MARK: Formatting (Go's Duration.String)

  public var description: String {
    if nanoseconds == 0 { return "0s" }
    let negative = nanoseconds < 0
    // Magnitude as UInt64 so Int64.min formats instead of trapping.
    var u = negative ? UInt64(bitPattern: 0 &- nanoseconds) : UInt64(nanoseconds)
    var text: String
    if u < 1_000_000_000 {
      // Below one second Go switches to the largest unit that keeps an integer part: ns, µs or ms.
      let (precision, unit): (Int, String) =
        u < 1_000 ? (0, "ns") : u < 1_000_000 ? (3, "µs") : (6, "ms")
      let (fraction, whole) = Self.formatFraction(u, precision: precision)
      text = String(whole) + fraction + unit
    } else {
      let (fraction, wholeSeconds) = Self.formatFraction(u, precision: 9)
      u = wholeSeconds
      text = String(u % 60) + fraction + "s"
      u /= 60
      if u > 0 {
        text = String(u % 60) + "m" + text
        u /= 60
        if u > 0 { text = String(u) + "h" + text }
      }
    }
    return negative ? "-" + text : text
  }

  /// Splits `value` into `value / 10^precision` and its fraction text (".5", ".125"), dropping trailing
  /// zeros and the point itself when the fraction is zero, like Go's fmtFrac.
  private static func formatFraction(_ value: UInt64, precision: Int) -> (String, UInt64) {
    var v = value
    var digits: [Character] = []
    var significant = false
    for _ in 0..<precision {
      let digit = v % 10
      significant = significant || digit != 0
      if significant { digits.append(Character(String(digit))) }
      v /= 10
    }
    if digits.isEmpty { return ("", v) }
    return ("." + String(digits.reversed()), v)
  }

  // MARK: Parsing (Go's time.ParseDuration)

  /// Go's unit table. A switch rather than a dictionary: building a dictionary costs a runtime
  /// conformance lookup on every start-up.
  private static func nanosecondsPerUnit(_ unit: Substring) -> UInt64? {
    switch unit {
    case "ns": return 1
    case "us", "µs", "μs": return 1_000
    case "ms": return 1_000_000
    case "s": return 1_000_000_000
    case "m": return 60_000_000_000
    case "h": return 3_600_000_000_000
    default: return nil
    }
  }

  /// Why a duration string was rejected, in Go's words.
  public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "invalid duration \"\(text)\": \(reason)" }
  }

  public init(parsing text: String) throws(ParseError) {
    var s = Substring(text)
    var negative = false
    if let first = s.first, first == "-" || first == "+" {
      negative = first == "-"
      s = s.dropFirst()
    }
    if s == "0" {
      self.init(nanoseconds: 0)
      return
    }
    if s.isEmpty { throw ParseError(text: text, reason: "expected a number followed by a unit (ns, us, ms, s, m, h)") }
    let limit: UInt64 = 1 << 63
    var total: UInt64 = 0
    while !s.isEmpty {
      guard let c = s.first, c == "." || c.isASCIIDigit else {
        throw ParseError(text: text, reason: "expected a number followed by a unit (ns, us, ms, s, m, h)")
      }
      // Integer part.
      var whole: UInt64 = 0
      var sawWhole = false
      while let c = s.first, c.isASCIIDigit {
        let (times10, o1) = whole.multipliedReportingOverflow(by: 10)
        let (next, o2) = times10.addingReportingOverflow(UInt64(c.asciiValue! - 48))
        if o1 || o2 || next > limit { throw ParseError(text: text, reason: "value out of range") }
        whole = next
        sawWhole = true
        s = s.dropFirst()
      }
      // Fractional part: keep digits while they fit, like Go's leadingFraction.
      var fraction: UInt64 = 0
      var scale: Double = 1
      var sawFraction = false
      if s.first == "." {
        s = s.dropFirst()
        var overflowed = false
        while let c = s.first, c.isASCIIDigit {
          sawFraction = true
          if !overflowed {
            let (times10, o1) = fraction.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(UInt64(c.asciiValue! - 48))
            if o1 || o2 || next > limit {
              overflowed = true
            } else {
              fraction = next
              scale *= 10
            }
          }
          s = s.dropFirst()
        }
      }
      if !sawWhole && !sawFraction {
        throw ParseError(text: text, reason: "expected a number followed by a unit (ns, us, ms, s, m, h)")
      }
      let unitText = s.prefix { $0 != "." && !$0.isASCIIDigit }
      if unitText.isEmpty { throw ParseError(text: text, reason: "missing unit (ns, us, ms, s, m, h)") }
      s = s.dropFirst(unitText.count)
      guard let unit = Self.nanosecondsPerUnit(unitText) else {
        throw ParseError(text: text, reason: "unknown unit \"\(unitText)\" (use ns, us, ms, s, m or h)")
      }
      if whole > limit / unit { throw ParseError(text: text, reason: "value out of range") }
      var value = whole * unit
      if fraction > 0 {
        value += UInt64(Double(fraction) * (Double(unit) / scale))
        if value > limit { throw ParseError(text: text, reason: "value out of range") }
      }
      total += value
      if total > limit { throw ParseError(text: text, reason: "value out of range") }
    }
    if negative {
      self.init(nanoseconds: total == limit ? .min : -Int64(total))
    } else {
      if total > limit - 1 { throw ParseError(text: text, reason: "value out of range") }
      self.init(nanoseconds: Int64(total))
    }
  }
}

extension Character {
  var isASCIIDigit: Bool { asciiValue.map { $0 >= 48 && $0 <= 57 } ?? false }
}
