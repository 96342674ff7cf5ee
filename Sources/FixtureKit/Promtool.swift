import Foundation

/// Prometheus's own checker, `promtool` (Debian's prometheus package, installed by
/// `scripts/install-deps --test`), for the metrics textfile and the documented alert rules.
public enum Promtool {
  /// The executable, or nil when it is not installed.
  public static var path: String? {
    ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// `promtool check metrics < file`: nil when the file passes (lint included), else promtool's output.
  public static func checkMetrics(_ file: String) throws -> String? {
    try run(["check", "metrics"], stdin: file)
  }

  /// `promtool check rules file`: nil when the rules pass, else promtool's output.
  public static func checkRules(_ file: String) throws -> String? {
    try run(["check", "rules", file], stdin: nil, quietOnSuccess: false)
  }

  /// `promtool test rules file` (run in the file's folder, where its rule_files are).
  public static func testRules(_ file: String) throws -> String? {
    try run(["test", "rules", file], stdin: nil, quietOnSuccess: false)
  }

  public struct Missing: Error, CustomStringConvertible {
    public var description: String { "promtool is missing: run scripts/install-deps --test (Debian's prometheus package)" }
  }

  private static func run(_ arguments: [String], stdin: String?, quietOnSuccess: Bool = true) throws -> String? {
    guard let path else { throw Missing() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let stdin { process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdin)) }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    // check metrics prints nothing for a clean file; lint problems alone still exit 0.
    if process.terminationStatus != 0 || (quietOnSuccess && !text.isEmpty) { return text.isEmpty ? "exit \(process.terminationStatus)" : text }
    return nil
  }
}
