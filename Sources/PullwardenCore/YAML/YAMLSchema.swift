/// How plain (unquoted, untagged) scalars are typed, and how mapping keys become JSON keys. YAML 1.1
/// and 1.2 disagree on a handful of spellings; which rules apply depends on who else reads the file.
///
/// | plain scalar      | `.core` (our config files) | `.kubernetes` (Secrets, kubeconfig) |
/// |-------------------|----------------------------|-------------------------------------|
/// | `yes` `no` `on` `off` `y` `n` (and Yes, YES, …) | string | boolean               |
/// | `true` `false` (True, TRUE …)                   | boolean | boolean              |
/// | `~` `null` (Null, NULL), empty                  | null    | null                 |
/// | `0755`            | integer 755                | integer 493 (octal)                 |
/// | `0o755` `0x1F`    | integer 493, 31            | integer 493, 31                     |
/// | `0b101` `1_000`   | string                     | integer 5, 1000                     |
/// | `1e3` `1.5` `.5`  | number                     | number                              |
/// | `2024-01-02`      | string                     | string (go-yaml keeps timestamps as text) |
/// | key `on:` / `1:`  | key "on" / "1"             | key "true" / "1" (sigs.k8s.io/yaml) |
/// | key `<<:`         | an ordinary key            | merge (go-yaml's strict mode: an overlap is a duplicate) |
///
/// Duplicate keys are an error under both: the API server's strict decoding and go-yaml's
/// `UnmarshalStrict` reject them, and "last one wins" would let a second, unnoticed entry decide.
/// Quoted scalars and block scalars are always strings; `!!str` and `!` make any scalar a string.
public enum YAMLSchema: Sendable {
  /// The YAML 1.2 core schema: Pullwarden's own config files (documented in README, Configuration).
  /// `enabled: yes` is then the string "yes", which the config reader rejects with a type error
  /// rather than guessing.
  case core
  /// What kubectl, the API server and client-go read: sigs.k8s.io/yaml, which converts YAML to JSON
  /// with go-yaml v2 (YAML 1.1 booleans and octals). A Secret or kubeconfig file then means here what
  /// it means to `kubectl apply` and `kubectl --kubeconfig`.
  case kubernetes

  // MARK: Plain scalars

  /// The JSON value of a plain scalar under this schema.
  func resolvePlain(_ text: String) -> JSONValue {
    switch self {
    case .core: return Self.resolveCore(text)
    case .kubernetes: return Self.resolveKubernetes(text)
    }
  }

  /// YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1023-core-schema).
  static func resolveCore(_ text: String) -> JSONValue {
    switch text {
    case "", "~", "null", "Null", "NULL": return .null
    case "true", "True", "TRUE": return .bool(true)
    case "false", "False", "FALSE": return .bool(false)
    case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .real(.infinity)
    case "-.inf", "-.Inf", "-.INF": return .real(-.infinity)
    case ".nan", ".NaN", ".NAN": return .real(.nan)
    default: break
    }
    let bytes = Array(text.utf8)
    if bytes.count > 2, bytes[0] == UInt8(ascii: "0"), bytes[1] == UInt8(ascii: "x") {
      return Self.digits(bytes[2...], radix: 16).map { .integer($0) } ?? .string(text)
    }
    if bytes.count > 2, bytes[0] == UInt8(ascii: "0"), bytes[1] == UInt8(ascii: "o") {
      return Self.digits(bytes[2...], radix: 8).map { .integer($0) } ?? .string(text)
    }
    var unsigned = bytes[...]
    let negative = unsigned.first == UInt8(ascii: "-")
    if negative || unsigned.first == UInt8(ascii: "+") { unsigned = unsigned.dropFirst() }
    if !unsigned.isEmpty, unsigned.allSatisfy(Self.isDigit) {
      // Out of Int64's range: a number all the same, as a float (JSON has one number type).
      if let value = Self.digits(unsigned, radix: 10, negative: negative) { return .integer(value) }
      return Double(text).map { .real($0) } ?? .string(text)
    }
    if Self.isYAMLFloat(bytes[...]), let value = Double(text), value.isFinite { return .real(value) }
    return .string(text)
  }

  /// go-yaml v2's `resolve` (v2.4.0, as vendored by sigs.k8s.io/yaml): its table of fixed spellings,
  /// then, for text starting with a digit or sign, Go's `strconv.ParseInt(text without "_", 0, 64)`
  /// (so `0755` is octal, `0x1F`, `0o17` and `0b101` are prefixed), then its float pattern.
  static func resolveKubernetes(_ text: String) -> JSONValue {
    switch text {
    case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": return .bool(true)
    case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": return .bool(false)
    case "", "~", "null", "Null", "NULL": return .null
    case ".nan", ".NaN", ".NAN": return .real(.nan)
    case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .real(.infinity)
    case "-.inf", "-.Inf", "-.INF": return .real(-.infinity)
    default: break
    }
    let bytes = Array(text.utf8)
    guard let first = bytes.first else { return .string(text) }
    if first == UInt8(ascii: ".") {
      // Go's ParseFloat: for text starting with a dot, a decimal fraction with an optional exponent.
      if Self.isYAMLFloat(bytes[...]), let value = Double(text), value.isFinite { return .real(value) }
      return .string(text)
    }
    guard Self.isDigit(first) || first == UInt8(ascii: "+") || first == UInt8(ascii: "-") else { return .string(text) }
    let plain = bytes.filter { $0 != UInt8(ascii: "_") }
    if let value = Self.goParseInt(plain[...]) { return .integer(value) }
    // ParseUint's range above Int64 (no sign): a number all the same.
    if Self.isDigit(first), plain.allSatisfy(Self.isDigit), let value = Double(String(decoding: plain, as: UTF8.self)) {
      return .real(value)
    }
    if Self.isYAMLFloat(plain[...]), let value = Double(String(decoding: plain, as: UTF8.self)), value.isFinite {
      return .real(value)
    }
    return .string(text)
  }

  // MARK: Mapping keys

  /// The JSON key of a mapping key written as a scalar; nil when JSON cannot have it.
  ///
  /// `.core` keeps the key's text. `.kubernetes` does what sigs.k8s.io/yaml's YAMLToJSON does with
  /// go-yaml's typed keys: `on` becomes "true", `0x10` becomes "16", a float is formatted as Go's
  /// `FormatFloat(f, 'g', -1, 32)`, and a null key is unsupported.
  func key(_ text: String, plain: Bool) -> String? {
    guard self == .kubernetes, plain else { return text }
    switch Self.resolveKubernetes(text) {
    case .string(let string): return string
    case .bool(let value): return value ? "true" : "false"
    case .integer(let value): return String(value)
    case .real(let value): return GoFloat.format32(value)
    default: return nil
    }
  }

  // MARK: Number syntax

  static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

  /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, go-yaml's and the core schema's float.
  static func isYAMLFloat(_ text: ArraySlice<UInt8>) -> Bool {
    var s = text
    if s.first == UInt8(ascii: "-") || s.first == UInt8(ascii: "+") { s = s.dropFirst() }
    let whole = s.prefix(while: isDigit).count
    s = s.dropFirst(whole)
    var fraction = 0
    if s.first == UInt8(ascii: ".") {
      s = s.dropFirst()
      fraction = s.prefix(while: isDigit).count
      s = s.dropFirst(fraction)
    }
    if whole == 0 && fraction == 0 { return false }
    if let e = s.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
      s = s.dropFirst()
      if s.first == UInt8(ascii: "-") || s.first == UInt8(ascii: "+") { s = s.dropFirst() }
      let exponent = s.prefix(while: isDigit).count
      if exponent == 0 { return false }
      s = s.dropFirst(exponent)
    }
    return s.isEmpty
  }

  /// Go's `strconv.ParseInt(s, 0, 64)` for text without underscores: an optional sign, then `0x`,
  /// `0o`, `0b` (each followed by at least one digit) or a leading `0` (octal), else decimal.
  static func goParseInt(_ text: ArraySlice<UInt8>) -> Int64? {
    var s = text
    let negative = s.first == UInt8(ascii: "-")
    if negative || s.first == UInt8(ascii: "+") { s = s.dropFirst() }
    guard let first = s.first else { return nil }
    var radix: UInt64 = 10
    if first == UInt8(ascii: "0") {
      let letter = s.count >= 3 ? s[s.startIndex + 1] | 0x20 : 0
      switch letter {
      case UInt8(ascii: "b"): radix = 2; s = s.dropFirst(2)
      case UInt8(ascii: "o"): radix = 8; s = s.dropFirst(2)
      case UInt8(ascii: "x"): radix = 16; s = s.dropFirst(2)
      default: radix = 8; s = s.dropFirst()
      }
    }
    return digits(s, radix: radix, negative: negative)
  }

  /// The value of `digits` in `radix`, in Int64's range (with the sign applied); nil for an invalid
  /// digit or an overflow. Empty digits are 0 (Go's rule after a leading `0`).
  static func digits(_ digits: ArraySlice<UInt8>, radix: UInt64, negative: Bool = false) -> Int64? {
    var value: UInt64 = 0
    for byte in digits {
      let digit: UInt64
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(byte - UInt8(ascii: "A") + 10)
      default: return nil
      }
      guard digit < radix else { return nil }
      let (shifted, overflow1) = value.multipliedReportingOverflow(by: radix)
      let (sum, overflow2) = shifted.addingReportingOverflow(digit)
      if overflow1 || overflow2 { return nil }
      value = sum
    }
    if negative {
      if value == UInt64(Int64.max) + 1 { return Int64.min }
      return value <= UInt64(Int64.max) ? -Int64(value) : nil
    }
    return value <= UInt64(Int64.max) ? Int64(value) : nil
  }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`, which sigs.k8s.io/yaml uses for float mapping keys:
/// the shortest digits that round-trip through a float32, in `%e` form when the decimal exponent is
/// below -4 or at least 6 (`1e+06`, `1.5e-05`), else plain (`1000`, `0.25`).
enum GoFloat {
  static func format32(_ value: Double) -> String {
    if value.isNaN { return ".nan" }
    if value.isInfinite { return value < 0 ? "-.inf" : ".inf" }
    let single = Float(value)
    if single.isInfinite { return single < 0 ? "-.inf" : ".inf" }
    if single == 0 { return single.sign == .minus ? "-0" : "0" }
    // Swift's description is the shortest round-trip form too; take its digits and exponent.
    var text = Array(single.magnitude.description.utf8)
    var exponent = 0
    if let e = text.firstIndex(of: UInt8(ascii: "e")) {
      exponent = Int(String(decoding: text[(e + 1)...], as: UTF8.self)) ?? 0
      text = Array(text[..<e])
    }
    var point = text.firstIndex(of: UInt8(ascii: ".")) ?? text.count
    var digits = text.filter { $0 != UInt8(ascii: ".") }
    while digits.first == UInt8(ascii: "0"), digits.count > 1 {
      digits.removeFirst()
      point -= 1
    }
    while digits.last == UInt8(ascii: "0"), digits.count > 1 { digits.removeLast() }
    let decimalPoint = point + exponent  // digits d1 d2 … mean 0.d1d2… × 10^decimalPoint
    let sign = single.sign == .minus ? "-" : ""
    let scientific = decimalPoint - 1
    let digitText = String(decoding: digits, as: UTF8.self)
    if scientific < -4 || scientific >= 6 {
      var mantissa = String(digitText.prefix(1))
      if digits.count > 1 { mantissa += "." + digitText.dropFirst() }
      let magnitude = abs(scientific)
      return sign + mantissa + "e" + (scientific < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + String(magnitude)
    }
    if decimalPoint <= 0 {
      return sign + "0." + String(repeating: "0", count: -decimalPoint) + digitText
    }
    if decimalPoint >= digits.count {
      return sign + digitText + String(repeating: "0", count: decimalPoint - digits.count)
    }
    return sign + digitText.prefix(decimalPoint) + "." + digitText.dropFirst(decimalPoint)
  }
}
