#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CBuildInfo
import PullwardenCore

/// The `provide` command's work, shared by the fast path and `Commands.provide`.
enum ProvideInvocation {
  /// The config path when `arguments` are exactly `provide --config FILE` or `provide --config=FILE`.
  static func configPath(in arguments: [String]) -> String? {
    let rest = arguments.dropFirst()
    guard rest.first == "provide" else { return nil }
    let options = Array(rest.dropFirst())
    if options.count == 2, options[0] == "--config", !options[1].isEmpty, !options[1].hasPrefix("-") {
      return options[1]
    }
    if options.count == 1, options[0].hasPrefix("--config=") {
      let path = String(options[0].dropFirst("--config=".count))
      return path.isEmpty ? nil : path
    }
    return nil
  }

  /// Reads stdin, answers, writes stdout; returns the exit status. Nothing reaches stdout on failure.
  /// The record is written only after the answer is out (see `ProvideRun.run`). A call whose sources
  /// make HTTP requests continues in pullwarden-dynamic when this build cannot make them (`HandOff`).
  static func run(configPath: String) -> Int32 {
    do {
      let input = try readRequest()
      _ = try ProvideRun.run(
        configPath: configPath, input: input, diagnostics: .standardError,
        handOff: { () throws(PullwardenError) in try HandOff.continueInSibling(standardInput: input) }
      ) { (output) throws(PullwardenError) in
        guard StandardStreams.writeOut(output) else {
          throw PullwardenError(.output, "cannot write the response to stdout: \(String(cString: strerror(errno)))")
        }
      }
    } catch {
      StandardStreams.reportError(error)
      return ProvideRun.exitCode(for: error.kind)
    }
    return 0
  }

  /// All of stdin, refusing more than the request size limit.
  private static func readRequest() throws(PullwardenError) -> [UInt8] {
    let limit = CredentialProviderRequest.sizeLimit
    do {
      return try FileIO.readAll(fd: 0, limit: limit, name: "stdin")
    } catch is FileTooLarge {
      throw PullwardenError(.request, "request is larger than \(ByteCount(limit))", at: "stdin")
    } catch {
      throw PullwardenError(.request, "cannot read the request: \(error)", at: "stdin")
    }
  }
}

/// Whole-buffer writes to stdout and stderr.
enum StandardStreams {
  @discardableResult
  static func writeOut(_ bytes: [UInt8]) -> Bool { write(fd: 1, bytes) }

  @discardableResult
  static func writeOut(_ text: String) -> Bool { write(fd: 1, Array(text.utf8)) }

  /// Writes `text` to stderr with everything before its final newline escaped onto one line, whoever
  /// built it (`Escaping.line`).
  static func writeError(_ text: String) {
    let body = text.hasSuffix("\n") ? String(text.dropLast()) : text
    write(fd: 2, Array((Escaping.line(body) + "\n").utf8))
  }

  /// `pullwarden: <what> (<where>)`, one line (PullwardenError escapes its own text).
  static func reportError(_ error: PullwardenError) {
    writeError("pullwarden: \(error)\n")
  }

  @discardableResult
  private static func write(fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { writeAll(fd: fd, buffer: $0) }
  }
}

enum PullwardenVersion {
  static let current = "0.1.0"
  /// The commit the release build was made from, or "unknown" (CBuildInfo).
  static var commit: String { String(cString: CBuildInfo_commit()) }
  /// That commit's date, the reproducible build date, or "unknown".
  static var buildDate: String { String(cString: CBuildInfo_date()) }

  /// `pullwarden 0.1.0 (commit abc123, built 2026-12-02T02:50:00Z)`.
  static var text: String { "pullwarden \(current) (commit \(commit), built \(buildDate))\n" }

  static var value: JSONValue {
    .object(["version": .string(current), "commit": .string(commit), "buildDate": .string(buildDate)])
  }
}
