#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A wall-clock instant with nanosecond resolution, independent of Foundation.
///
/// Records store times as RFC 3339 in UTC at second precision, as the kubelet's `metav1.Time` does.
public struct Timestamp: Comparable, Hashable, Sendable, CustomStringConvertible {
  /// Nanoseconds since 1970-01-01T00:00:00Z.
  public var nanosecondsSinceEpoch: Int64

  public init(nanosecondsSinceEpoch: Int64) {
    self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
  }

  public init(secondsSinceEpoch: Int64) {
    self.nanosecondsSinceEpoch = secondsSinceEpoch * 1_000_000_000
  }

  public var secondsSinceEpoch: Int64 {
    // Floor division so instants before 1970 round down like Go's Unix().
    let (q, r) = nanosecondsSinceEpoch.quotientAndRemainder(dividingBy: 1_000_000_000)
    return r < 0 ? q - 1 : q
  }

  /// The current time from the real-time clock.
  public static func now() -> Timestamp {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Timestamp(nanosecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
  }

  public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
    lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
  }

  /// The instant `duration` later (saturating instead of overflowing).
  public func adding(_ duration: GoDuration) -> Timestamp {
    let (sum, overflow) = nanosecondsSinceEpoch.addingReportingOverflow(duration.nanoseconds)
    if overflow { return Timestamp(nanosecondsSinceEpoch: duration.nanoseconds > 0 ? .max : .min) }
    return Timestamp(nanosecondsSinceEpoch: sum)
  }

  /// The time from `self` until `later` (negative when `later` is earlier), saturating.
  public func duration(until later: Timestamp) -> GoDuration {
    let (difference, overflow) = later.nanosecondsSinceEpoch.subtractingReportingOverflow(nanosecondsSinceEpoch)
    if overflow { return GoDuration(nanoseconds: later > self ? .max : .min) }
    return GoDuration(nanoseconds: difference)
  }

  /// RFC 3339 in UTC with whole seconds, e.g. `2024-10-21T12:26:40Z` (the kubelet's record format).
  public var rfc3339: String {
    let seconds = secondsSinceEpoch
    let (days, secondOfDay) = floorDivide(seconds, 86_400)
    let (year, month, day) = civilDate(fromDaysSinceEpoch: days)
    let hour = secondOfDay / 3600, minute = secondOfDay / 60 % 60, second = secondOfDay % 60
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))Z"
  }

  public var description: String { rfc3339 }

  /// Parses RFC 3339 exactly as Go's `time.Parse(time.RFC3339, text)` does (what `metav1.Time`
  /// reads): `2024-10-21T12:26:40Z`, fractional seconds and numeric offsets allowed.
  ///
  /// Go's rules, which are narrower than RFC 3339 in places and wider in others: upper-case `T` and
  /// `Z` only; a 4-digit year and 2-digit month, day, minute and second, but a 1- or 2-digit hour;
  /// no leap second (60); a fraction after `.` or `,` of any length (digits past the ninth are
  /// dropped); offsets `±hh:mm` with hh at most 24 and mm at most 60. Instants outside Int64
  /// nanoseconds (before 1677 or after 2262), which Go accepts, are refused here.
  public init?(rfc3339 text: String) {
    let b = Array(text.utf8)
    func digits(_ start: Int, _ count: Int) -> Int64? {
      guard start + count <= b.count else { return nil }
      var value: Int64 = 0
      for i in start..<start + count {
        guard b[i] >= 48 && b[i] <= 57 else { return nil }
        value = value * 10 + Int64(b[i] - 48)
      }
      return value
    }
    func isDigit(_ i: Int) -> Bool { i < b.count && b[i] >= 48 && b[i] <= 57 }
    // Go's layout element "15" takes one or two digits.
    let hourDigits = isDigit(12) ? 2 : 1
    let h = 11 + hourDigits  // index of the ':' after the hour
    guard let year = digits(0, 4), b.count > 4, b[4] == UInt8(ascii: "-"),
      let month = digits(5, 2), b.count > 7, b[7] == UInt8(ascii: "-"),
      let day = digits(8, 2), b.count > 10, b[10] == UInt8(ascii: "T"),
      let hour = digits(11, hourDigits), b.count > h, b[h] == UInt8(ascii: ":"),
      let minute = digits(h + 1, 2), b.count > h + 3, b[h + 3] == UInt8(ascii: ":"),
      let second = digits(h + 4, 2),
      (1...12).contains(month), day >= 1, day <= daysInMonth(year, month), hour < 24, minute < 60, second < 60
    else { return nil }
    var index = h + 6
    var nanos: Int64 = 0
    if index + 1 < b.count && (b[index] == UInt8(ascii: ".") || b[index] == UInt8(ascii: ",")) && isDigit(index + 1) {
      index += 1
      var scale: Int64 = 100_000_000
      while isDigit(index) {
        nanos += Int64(b[index] - 48) * scale
        scale /= 10
        index += 1
      }
    }
    guard index < b.count else { return nil }
    var offsetSeconds: Int64 = 0
    switch b[index] {
    case UInt8(ascii: "Z"):
      index += 1
    case UInt8(ascii: "+"), UInt8(ascii: "-"):
      guard let oh = digits(index + 1, 2), b.count > index + 3, b[index + 3] == UInt8(ascii: ":"),
        let om = digits(index + 4, 2), oh <= 24, om <= 60
      else { return nil }
      offsetSeconds = (oh * 3600 + om * 60) * (b[index] == UInt8(ascii: "+") ? 1 : -1)
      index += 6
    default:
      return nil
    }
    guard index == b.count else { return nil }
    let days = daysSinceEpoch(year: year, month: month, day: day)
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
    // Nanoseconds in an Int64 reach from 1677 to 2262; times outside are refused, not trapped on
    // (they arrive in files Pullwarden must never crash on).
    // In 128 bits: the earliest instant (1677-09-21T00:12:43.145224192Z) overflows Int64 as
    // whole seconds before its fraction is added.
    guard let total = Int64(exactly: Int128(seconds) * 1_000_000_000 + Int128(nanos)) else { return nil }
    self.init(nanosecondsSinceEpoch: total)
  }
}

private func pad(_ value: Int64, _ width: Int) -> String {
  let text = String(value)
  return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}

private func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
  let (q, r) = a.quotientAndRemainder(dividingBy: b)
  return r < 0 ? (q - 1, r + b) : (q, r)
}

private func daysInMonth(_ year: Int64, _ month: Int64) -> Int64 {
  switch month {
  case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
  case 4, 6, 9, 11: return 30
  default: return 31
  }
}

// Howard Hinnant's days-from-civil and civil-from-days algorithms (proleptic Gregorian calendar).
private func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
  let y = month <= 2 ? year - 1 : year
  let era = (y >= 0 ? y : y - 399) / 400
  let yearOfEra = y - era * 400
  let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
  let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

private func civilDate(fromDaysSinceEpoch days: Int64) -> (Int64, Int64, Int64) {
  let z = days + 719_468
  let era = (z >= 0 ? z : z - 146_096) / 146_097
  let dayOfEra = z - era * 146_097
  let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
  let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
  let mp = (5 * dayOfYear + 2) / 153
  let day = dayOfYear - (153 * mp + 2) / 5 + 1
  let month = mp < 10 ? mp + 3 : mp - 9
  return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
}
