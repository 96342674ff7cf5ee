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
public struct LogSettings: Sendable, Equatable {
  static let keys = ["syslog", "file"]
  static let fileKeys = ["path", "maxBytes", "keep"]
  static let defaultMaxBytes: Int64 = 10 << 20
  static let defaultKeep = 5

  /// The syslog facility, or nil for no syslog.
  public var syslogFacility: SyslogFacility?
  public var file: FileSettings?

  public struct FileSettings: Sendable, Equatable {
    /// Absolute path of the current file; rotated ones get `.1` … `.keep`.
    public var path: String
    public var maxBytes: Int64
    public var keep: Int
  }

  /// Facilities that suit an authorization log; `authpriv` by default (see README, "Logs and metrics").
  public enum SyslogFacility: String, Sendable, CaseIterable {
    case authpriv, auth, daemon, local0, local1, local2, local3, local4, local5, local6, local7

    var value: Int32 {
      switch self {
      case .authpriv: return LOG_AUTHPRIV
      case .auth: return LOG_AUTH
      case .daemon: return LOG_DAEMON
      case .local0: return LOG_LOCAL0
      case .local1: return LOG_LOCAL1
      case .local2: return LOG_LOCAL2
      case .local3: return LOG_LOCAL3
      case .local4: return LOG_LOCAL4
      case .local5: return LOG_LOCAL5
      case .local6: return LOG_LOCAL6
      case .local7: return LOG_LOCAL7
      }
    }
  }

  static func read(_ reader: ObjectReader, baseDirectory: String) throws(PullwardenError) -> LogSettings {
    try reader.rejectUnknownKeys(keys)
    var settings = LogSettings()
    switch reader.object["syslog"] {
    case nil, .null?, .bool(false)?:
      break
    case .bool(true)?:
      settings.syslogFacility = .authpriv
    case .object?:
      let syslog = try reader.object("syslog")!
      try syslog.rejectUnknownKeys(["facility"])
      let name = try syslog.string("facility") ?? SyslogFacility.authpriv.rawValue
      guard let facility = SyslogFacility(rawValue: name) else {
        let known = SyslogFacility.allCases.map(\.rawValue).joined(separator: ", ")
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
public struct MetricsSettings: Sendable, Equatable {
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
