/// Response header fields in arrival order, looked up case-insensitively.
public struct HTTPHeaders: Sendable, Equatable {
  public private(set) var fields: [(name: String, value: String)]

  public init(_ fields: [(name: String, value: String)] = []) { self.fields = fields }

  public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
    lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
  }

  /// The first value of `name`, e.g. `headers["retry-after"]`.
  public subscript(name: String) -> String? {
    let wanted = name.lowercased()
    return fields.first { $0.name.lowercased() == wanted }?.value
  }

  /// Every value of `name` (WWW-Authenticate may appear several times).
  public func all(_ name: String) -> [String] {
    let wanted = name.lowercased()
    return fields.filter { $0.name.lowercased() == wanted }.map(\.value)
  }

  mutating func append(_ name: String, _ value: String) { fields.append((name, value)) }

  mutating func appendToLast(_ continuation: String) {
    guard !fields.isEmpty else { return }
    fields[fields.count - 1].value += " " + continuation
  }
}

/// HTTP-dates (RFC 9110 §5.6.7) in all three forms a recipient must accept.
public enum HTTPDate {
  private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

  /// Parses `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate), `Sunday, 06-Nov-94 08:49:37 GMT` (RFC 850)
  /// or `Sun Nov  6 08:49:37 1994` (asctime); nil for anything else.
  public static func parse(_ text: String, now: Timestamp = .now()) -> Timestamp? {
    let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    var day: Int?, month: Int?, year: Int?, time: String?
    if words.count == 6, words[0].hasSuffix(","), words[5] == "GMT" {
      // IMF-fixdate: weekday, day month year time GMT
      day = Int(words[1])
      month = months.firstIndex(of: words[2]).map { $0 + 1 }
      year = words[3].utf8.count == 4 ? Int(words[3]) : nil
      time = words[4]
    } else if words.count == 4, words[0].hasSuffix(","), words[3] == "GMT" {
      // RFC 850: weekday, dd-mon-yy time GMT
      let parts = words[1].split(separator: "-").map(String.init)
      guard parts.count == 3, parts[2].utf8.count == 2, let twoDigit = Int(parts[2]) else { return nil }
      day = Int(parts[0])
      month = months.firstIndex(of: parts[1]).map { $0 + 1 }
      // RFC 9110: a two-digit year more than 50 years in the future means the past century.
      let currentYear = Int(now.rfc3339.prefix(4)) ?? 2000
      var full = currentYear / 100 * 100 + twoDigit
      if full > currentYear + 50 { full -= 100 }
      year = full
      time = words[2]
    } else if words.count == 5 {
      // asctime: weekday month day time year
      month = months.firstIndex(of: words[1]).map { $0 + 1 }
      day = Int(words[2])
      time = words[3]
      year = words[4].utf8.count == 4 ? Int(words[4]) : nil
    }
    guard let day, let month, let year, let time, time.utf8.count == 8, (1...31).contains(day) else { return nil }
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return Timestamp(rfc3339: "\(year)-\(two(month))-\(two(day))T\(time)Z")
  }

  /// `Sun, 06 Nov 1994 08:49:37 GMT` (what servers send; used by the test server's tests).
  public static func format(_ time: Timestamp) -> String {
    let text = time.rfc3339  // yyyy-mm-ddThh:mm:ssZ
    let b = Array(text.utf8)
    let year = String(decoding: b[0..<4], as: UTF8.self)
    let month = months[Int(String(decoding: b[5..<7], as: UTF8.self))! - 1]
    let day = String(decoding: b[8..<10], as: UTF8.self)
    let clock = String(decoding: b[11..<19], as: UTF8.self)
    // 1970-01-01 was a Thursday.
    let days = time.secondsSinceEpoch >= 0 ? time.secondsSinceEpoch / 86_400 : (time.secondsSinceEpoch - 86_399) / 86_400
    let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    let weekday = weekdays[Int(((days % 7) + 7) % 7)]
    return "\(weekday), \(day) \(month) \(year) \(clock) GMT"
  }
}

/// The `Retry-After` response field (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
public enum RetryAfter {
  /// How long the server asks the client to wait, or nil when the field is absent or malformed.
  ///
  /// A date is taken relative to the response's own `Date` field when there is one, so a node whose
  /// clock is off still waits what the server meant. Dates in the past mean "now".
  public static func delay(in headers: HTTPHeaders, now: Timestamp) -> GoDuration? {
    guard let value = headers["retry-after"]?.trimmingASCIIWhitespace(), !value.isEmpty else { return nil }
    if value.allSatisfy(\.isASCIIDigit) {
      guard value.utf8.count <= 9, let seconds = Int64(value) else { return .hours(24) }
      return .seconds(seconds)
    }
    guard let date = HTTPDate.parse(value, now: now) else { return nil }
    let reference = headers["date"].flatMap { HTTPDate.parse($0, now: now) } ?? now
    return max(.zero, reference.duration(until: date))
  }
}

/// An authentication challenge from `WWW-Authenticate` (RFC 9110 §11.6.1), e.g.
/// `Bearer realm="https://auth.example.com/token",service="registry.example.com"`.
public struct AuthenticationChallenge: Sendable, Equatable {
  /// Lower-cased, e.g. `bearer`.
  public var scheme: String
  /// Parameter names lower-cased; quoted values unescaped.
  public var parameters: [String: String]

  /// Every challenge in the given field values (one field may hold several, separated by commas).
  public static func parse(_ values: [String]) -> [AuthenticationChallenge] {
    var challenges: [AuthenticationChallenge] = []
    for value in values {
      var scanner = Scanner(Array(value.utf8))
      while true {
        scanner.skip { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: ",") }
        guard scanner.peek != nil else { break }
        guard let token = scanner.token() else {
          scanner.advance()  // not a token: token68 padding or junk
          continue
        }
        let mark = scanner.index
        scanner.skipSpaces()
        if scanner.peek == UInt8(ascii: "="), !challenges.isEmpty, scanner.peek(1) != UInt8(ascii: "=") {
          // name=value belongs to the current challenge.
          scanner.advance()
          scanner.skipSpaces()
          let value = scanner.peek == UInt8(ascii: "\"") ? scanner.quoted() : (scanner.token() ?? "")
          challenges[challenges.count - 1].parameters[token.lowercased()] = value
        } else if scanner.peek == UInt8(ascii: "=") {
          // A token68 with padding (`Basic abc==`): no parameters we use.
          scanner.skip { $0 == UInt8(ascii: "=") }
        } else {
          scanner.index = mark
          challenges.append(AuthenticationChallenge(scheme: token.lowercased(), parameters: [:]))
        }
      }
    }
    return challenges
  }

  private struct Scanner {
    let bytes: [UInt8]
    var index = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }
    func peek(_ offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }
    mutating func advance() { index += 1 }
    mutating func skip(while predicate: (UInt8) -> Bool) {
      while let byte = peek, predicate(byte) { index += 1 }
    }
    mutating func skipSpaces() { skip { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") } }

    static func isTokenByte(_ byte: UInt8) -> Bool {
      // RFC 9110 tchar, plus token68's '/' and '=' are excluded here on purpose.
      switch byte {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
      default:
        return "!#$%&'*+-.^_`|~".utf8.contains(byte)
      }
    }

    mutating func token() -> String? {
      let start = index
      skip(while: Self.isTokenByte)
      return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
    }

    mutating func quoted() -> String {
      advance()  // opening quote
      var output: [UInt8] = []
      while let byte = peek {
        advance()
        if byte == UInt8(ascii: "\"") { break }
        if byte == UInt8(ascii: "\\"), let escaped = peek {
          advance()
          output.append(escaped)
        } else {
          output.append(byte)
        }
      }
      return String(decoding: output, as: UTF8.self)
    }
  }
}
