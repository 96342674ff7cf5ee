#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `log:` in the config: where each `provide` call's decision line goes (syslog, a JSON Lines file, or
/// both). Absent, `provide` does no logging work at all.
///
/// ```yaml
/// log:
///   syslog: true                  # or {facility: daemon}; identifier "pullwarden"
///   file:
///     path: /var/log/pullwarden/decisions.jsonl
///     maxBytes: 10485760          # rotate before the file would grow past this
///     keep: 5                     # decisions.jsonl.1 … .5
/// ```
public struct LogSettings: Sendable {
  static let keys = ["syslog", "file"]
  static let fileKeys = ["path", "maxBytes", "keep"]
  static let defaultMaxBytes: Int64 = 10 << 20
  static let defaultKeep = 5

  /// The syslog facility, or nil for no syslog.
  public var syslogFacility: SyslogFacility?
  public var file: FileSettings?

  public struct FileSettings: Sendable {
    /// Absolute path of the current file; rotated ones get `.1` … `.keep`.
    public var path: String
    public var maxBytes: Int64
    public var keep: Int
  }

  /// A syslog facility by its name in the config.
  public struct SyslogFacility: Sendable {
    public var name: String
    var value: Int32
  }

  /// Facilities that suit an authorization log; `authpriv` first, the default (see README, "Logs and
  /// metrics"). A table, not an enum: every protocol conformance is one more record the Swift runtime
  /// scans on each conformance lookup of every call.
  static let facilities = [
    SyslogFacility(name: "authpriv", value: LOG_AUTHPRIV), SyslogFacility(name: "auth", value: LOG_AUTH),
    SyslogFacility(name: "daemon", value: LOG_DAEMON), SyslogFacility(name: "local0", value: LOG_LOCAL0),
    SyslogFacility(name: "local1", value: LOG_LOCAL1), SyslogFacility(name: "local2", value: LOG_LOCAL2),
    SyslogFacility(name: "local3", value: LOG_LOCAL3), SyslogFacility(name: "local4", value: LOG_LOCAL4),
    SyslogFacility(name: "local5", value: LOG_LOCAL5), SyslogFacility(name: "local6", value: LOG_LOCAL6),
    SyslogFacility(name: "local7", value: LOG_LOCAL7),
  ]

  static func read(_ reader: ObjectReader, baseDirectory: String) throws(PullwardenError) -> LogSettings {
    try reader.rejectUnknownKeys(keys)
    var settings = LogSettings()
    switch reader.object["syslog"] {
    case nil, .null?, .bool(false)?:
      break
    case .bool(true)?:
      settings.syslogFacility = facilities[0]
    case .object?:
      let syslog = try reader.object("syslog")!
      try syslog.rejectUnknownKeys(["facility"])
      let name = try syslog.string("facility") ?? facilities[0].name
      guard let facility = facilities.first(where: { $0.name == name }) else {
        let known = facilities.map(\.name).joined(separator: ", ")
        throw syslog.error("unknown facility \(quoted: name) (expected one of \(known))", at: "facility")
      }
      settings.syslogFacility = facility
    case let other?:
      throw reader.error("\"syslog\" must be true, false or an object such as {facility: daemon}, found \(other.typeName)", at: "syslog")
    }
    if let file = try reader.object("file") {
      try file.rejectUnknownKeys(fileKeys)
      let path = FileIO.resolve(try file.requiredNonEmptyString("path"), relativeTo: baseDirectory)
      let maxBytes = try file.integer("maxBytes") ?? defaultMaxBytes
      guard (4096...(1 << 30)).contains(maxBytes) else {
        throw file.error("\"maxBytes\" must be between 4096 and 1073741824 (1 GiB)", at: "maxBytes")
      }
      let keep = try file.integer("keep") ?? Int64(defaultKeep)
      guard (1...100).contains(keep) else { throw file.error("\"keep\" must be between 1 and 100", at: "keep") }
      settings.file = FileSettings(path: path, maxBytes: maxBytes, keep: Int(keep))
    }
    if settings.syslogFacility == nil && settings.file == nil {
      throw reader.error("\"log\" names no destination: set syslog: true or a file")
    }
    return settings
  }
}

/// `metrics:` in the config: a Prometheus textfile for node-exporter's textfile collector, which every
/// `provide` call merges its counts into. Absent, `provide` does no metrics work at all.
public struct MetricsSettings: Sendable {
  static let keys = ["textfile"]

  /// Absolute path of the `.prom` file.
  public var textfile: String

  init(textfile: String) {
    self.textfile = textfile
  }

  static func read(_ reader: ObjectReader, baseDirectory: String) throws(PullwardenError) -> MetricsSettings {
    try reader.rejectUnknownKeys(keys)
    let path = FileIO.resolve(try reader.requiredNonEmptyString("textfile"), relativeTo: baseDirectory)
    guard path.hasSuffix(".prom") else {
      throw reader.error("\"textfile\" must end in .prom (node-exporter's textfile collector reads only those)", at: "textfile")
    }
    return MetricsSettings(textfile: path)
  }
}
