#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One metric family Pullwarden writes: its name, type, help and (for histograms) bucket bounds.
struct MetricFamily: Sendable {
  /// The TYPE line's word (strings, not an enum: see `LogSettings.facilities`).
  enum Kind {
    static let counter = "counter", gauge = "gauge", histogram = "histogram"
    static let all = [counter, gauge, histogram]
  }

  var name: String
  var kind: String
  var help: String
  /// Upper bounds of a histogram's buckets, ascending (`+Inf` is implied).
  var buckets: [Double]

  init(_ name: String, _ kind: String, _ help: String, buckets: [Double] = []) {
    self.name = name
    self.kind = kind
    self.help = help
    self.buckets = buckets
  }
}

/// Metric samples in the Prometheus text exposition format, as node-exporter's textfile collector
/// reads them: families in order, each with `# HELP` and `# TYPE`, then its samples.
///
/// Several `provide` processes run at once, so each call merges its own counts into the file: under a
/// lock it reads the file, adds its counts (counters and histograms add, gauges are set), and replaces
/// the file atomically (temporary file, fsync, rename), so the collector never reads half a file.
struct MetricsTextfile: Sendable {
  /// Families in the order they are written, with their samples in order (`series` is the sample's
  /// name with its labels, exactly as written).
  var families: [(family: MetricFamily, samples: [(series: String, value: Double)])] = []

  init() {}

  // MARK: Adding

  /// Adds `value` to a counter's (or sets a gauge's) sample with `labels`.
  mutating func add(_ family: MetricFamily, _ labels: [(String, String)], _ value: Double) {
    let index = familyIndex(family)
    let series = family.name + Self.labelText(labels)
    if family.kind == MetricFamily.Kind.gauge {
      set(series, to: value, in: index)
    } else {
      increase(series, by: value, in: index)
    }
  }

  /// Records one observation in a histogram's series with `labels`.
  mutating func observe(_ family: MetricFamily, _ labels: [(String, String)], _ value: Double) {
    let index = familyIndex(family)
    for bound in family.buckets {
      increase(family.name + "_bucket" + Self.labelText(labels + [("le", Self.number(bound))]), by: value <= bound ? 1 : 0, in: index)
    }
    increase(family.name + "_bucket" + Self.labelText(labels + [("le", "+Inf")]), by: 1, in: index)
    increase(family.name + "_sum" + Self.labelText(labels), by: value, in: index)
    increase(family.name + "_count" + Self.labelText(labels), by: 1, in: index)
  }

  /// This file's counts added to `other`'s (gauges take this file's value).
  func merged(into other: MetricsTextfile) -> MetricsTextfile {
    var result = other
    for (family, samples) in families {
      let index = result.familyIndex(family)
      for (series, value) in samples {
        if family.kind == MetricFamily.Kind.gauge { result.set(series, to: value, in: index) } else { result.increase(series, by: value, in: index) }
      }
    }
    return result
  }

  private mutating func familyIndex(_ family: MetricFamily) -> Int {
    if let index = families.firstIndex(where: { $0.family.name == family.name }) { return index }
    families.append((family, []))
    return families.count - 1
  }

  private mutating func increase(_ series: String, by value: Double, in index: Int) {
    if let position = families[index].samples.firstIndex(where: { $0.series == series }) {
      families[index].samples[position].value += value
    } else {
      families[index].samples.append((series, value))
    }
  }

  private mutating func set(_ series: String, to value: Double, in index: Int) {
    if let position = families[index].samples.firstIndex(where: { $0.series == series }) {
      families[index].samples[position].value = value
    } else {
      families[index].samples.append((series, value))
    }
  }

  // MARK: Text

  /// `{a="x",b="y"}`, values escaped as the format requires; empty for no labels.
  static func labelText(_ labels: [(String, String)]) -> String {
    guard !labels.isEmpty else { return "" }
    return "{" + labels.map { name, value in "\(name)=\"\(escapedLabel(value))\"" }.joined(separator: ",") + "}"
  }

  static func escapedLabel(_ value: String) -> String {
    var text = ""
    for character in value {
      switch character {
      case "\\": text += "\\\\"
      case "\"": text += "\\\""
      case "\n": text += "\\n"
      default: text.append(character)
      }
    }
    return text
  }

  /// A sample value: integers without a fraction, other values as Swift prints them (Go's ParseFloat
  /// reads both).
  static func number(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 9.0e15 { return String(Int64(value)) }
    return "\(value)"
  }

  func rendered() -> String {
    var text = ""
    for (family, samples) in families where !samples.isEmpty {
      text += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.kind)\n"
      for (series, value) in samples { text += "\(series) \(Self.number(value))\n" }
    }
    return text
  }

  /// Why a file is not one this code wrote.
  struct ParseError: Error, Sendable, CustomStringConvertible {
    var line: Int
    var what: String
    var description: String { "line \(line): \(what)" }
  }

  /// Reads a file `rendered()` wrote: HELP and TYPE before each family's samples, samples named by the
  /// family (with `_bucket`, `_sum`, `_count` for histograms), numeric values. Anything else is an error.
  static func parse(_ text: String) throws(ParseError) -> MetricsTextfile {
    var file = MetricsTextfile()
    var help: (name: String, text: String)?
    var lineNumber = 0
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      lineNumber += 1
      if line.hasPrefix("# HELP ") {
        let rest = line.dropFirst(7)
        guard let space = rest.firstIndex(of: " ") else { throw ParseError(line: lineNumber, what: "HELP without text") }
        help = (String(rest[..<space]), String(rest[rest.index(after: space)...]))
        continue
      }
      if line.hasPrefix("# TYPE ") {
        let parts = line.dropFirst(7).split(separator: " ")
        guard parts.count == 2, MetricFamily.Kind.all.contains(String(parts[1])), let help, help.name == parts[0],
          isMetricName(parts[0]), !file.families.contains(where: { $0.family.name == parts[0] })
        else { throw ParseError(line: lineNumber, what: "unexpected TYPE line") }
        file.families.append((MetricFamily(String(parts[0]), String(parts[1]), help.text), []))
        continue
      }
      guard let last = file.families.indices.last, !line.hasPrefix("#"), let space = line.lastIndex(of: " ") else {
        throw ParseError(line: lineNumber, what: "a sample outside a family, or a comment")
      }
      let series = String(line[..<space])
      guard let value = Double(line[line.index(after: space)...]), value.isFinite else {
        throw ParseError(line: lineNumber, what: "the value is not a number")
      }
      let family = file.families[last].family
      let name = series.prefix { $0 != "{" }
      let allowed = family.kind == MetricFamily.Kind.histogram ? ["_bucket", "_sum", "_count"].map { family.name + $0 } : [family.name]
      guard allowed.contains(String(name)), series.count == name.count || (series.hasSuffix("}") && series.count > name.count + 1) else {
        throw ParseError(line: lineNumber, what: "sample \(quoted: series) does not belong to \(family.name)")
      }
      file.families[last].samples.append((series, value))
    }
    return file
  }

  static func isMetricName<S: StringProtocol>(_ name: S) -> Bool {
    guard let first = name.utf8.first, !(48...57).contains(first) else { return false }
    return name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 58 }
  }

  // MARK: The file

  /// The largest textfile read back; a bigger one is not ours and is replaced.
  static let sizeLimit = 4 << 20
  static let lockTimeout = GoDuration.seconds(2)

  /// Adds `counts` to the textfile at `path` under its lock and replaces it atomically (mode 0644, so
  /// node-exporter can read it). A file that cannot be parsed is replaced by these counts alone, and
  /// `pullwarden_metrics_textfile_resets_total` says so.
  static func merge(_ counts: MetricsTextfile, into path: String) throws(ObserveWriteError) {
    let directory = FileIO.directoryName(path)
    try ObserveFiles.prepareDirectory(directory, mode: 0o755)
    let lock = try ObserveFiles.lock(beside: path, timeout: lockTimeout)
    defer { withExtendedLifetime(lock) {} }
    var existing = MetricsTextfile()
    var reset = false
    do {
      let bytes = try FileIO.readFile(path, limit: sizeLimit, followLinks: false)
      existing = try parse(String(decoding: bytes, as: UTF8.self))
    } catch let missing as SystemError where missing.code == ENOENT {
      // The first call writes the file.
    } catch {
      reset = true
    }
    var total = counts.merged(into: existing)
    if reset { total.add(ProvideMetrics.textfileResets, [], 1) }
    do {
      try FileIO.replaceFile(path, with: Array(total.rendered().utf8), mode: 0o644)
    } catch {
      throw ObserveWriteError(description: "\(error)")
    }
  }
}
