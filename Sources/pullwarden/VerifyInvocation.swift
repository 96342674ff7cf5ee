#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PullwardenCore

/// The `verify` command's work. Its contract differs from the other commands: stdout always carries a
/// decision, even for a usage error (`{"mustPull":true,"reason":"error",…}`, exit 2), so that a
/// caller that only reads stdout fails safe.
enum VerifyInvocation {
  /// Parses `arguments` (after `verify`) and runs; returns the exit status.
  static func main(arguments: [String]) -> Int32 {
    // `--version` is the same for every command, verify included.
    if arguments == ["--version"] {
      StandardStreams.writeOut(PullwardenVersion.text)
      return 0
    }
    // A single request is read before the options are judged, so a caller that writes it and then
    // reads the answer never meets a closed pipe. Not for --batch (it streams), help, or a terminal.
    var input: Result<[UInt8], PullwardenError>?
    if !arguments.contains(where: { $0 == "--batch" || $0 == "-h" || $0 == "--help" }) && isatty(0) == 0 {
      input = readRequest()
    }
    let parsed: ParsedOptions
    do {
      switch try Commands.verify.parse(arguments) {
      case .help:
        StandardStreams.writeOut(Commands.verify.help)
        return 0
      case .parsed(let options):
        parsed = options
      }
    } catch {
      let format: VerifyOptions.Format = zip(arguments, arguments.dropFirst()).contains { $0 == ("--format", "text") }
        || arguments.contains("--format=text") ? .text : .json
      return fail(PullwardenError(.config, error.message, at: "command line"), format: format)
    }
    return run(VerifyArguments(parsed), input: input)
  }

  /// Runs the command; `input` is the single request when it was already read.
  static func run(_ command: VerifyArguments, input: Result<[UInt8], PullwardenError>? = nil) -> Int32 {
    // Known before anything can fail, so even an option error is answered in the requested format.
    let format = VerifyOptions.Format(rawValue: command.format) ?? .json
    if let path = command.metricsTextfile, !path.hasSuffix(".prom") {
      return fail(
        PullwardenError(.config, "\(quoted: path) must end in .prom (node-exporter's textfile collector reads only those)", at: "--metrics-textfile"),
        format: format)
    }
    var metrics = command.metricsTextfile.map { _ in VerifyMetrics() }
    // After the answers are out: counting never delays or changes a decision.
    defer { if let metrics, let path = command.metricsTextfile { write(metrics, to: path) } }
    let session: VerifySession
    do {
      let options = try command.options()
      session = try VerifySession(options: options, batch: command.batch, diagnostics: .standardError)
    } catch {
      metrics?.count(.error(error))
      return fail(error, format: format)
    }
    return command.batch ? batch(session, metrics: &metrics) : single(session, input: input ?? readRequest(), metrics: &metrics)
  }

  /// Merges the decisions into the metrics textfile; a failure is a warning, never a changed answer.
  private static func write(_ metrics: VerifyMetrics, to given: String) {
    do {
      try metrics.write(to: FileIO.resolve(given, relativeTo: FileIO.currentDirectory()))
    } catch {
      Diagnostics.standardError.warn("metrics not written: \(error)")
    }
  }

  /// All of stdin, refusing more than one request's size limit.
  private static func readRequest() -> Result<[UInt8], PullwardenError> {
    do {
      return .success(try FileIO.readAll(fd: 0, limit: VerifyRequest.sizeLimit, name: "stdin"))
    } catch is FileTooLarge {
      return .failure(PullwardenError(.request, "request is larger than \(ByteCount(VerifyRequest.sizeLimit))", at: "stdin"))
    } catch {
      return .failure(PullwardenError(.request, "cannot read the request: \(error)", at: "stdin"))
    }
  }

  private static func single(_ session: VerifySession, input: Result<[UInt8], PullwardenError>, metrics: inout VerifyMetrics?) -> Int32 {
    let bytes: [UInt8]
    switch input {
    case .success(let read): bytes = read
    case .failure(let error): return fail(error, format: session.options.format)
    }
    let (decision, error) = session.answer(bytes, source: "stdin", now: .now())
    metrics?.count(decision)
    if let error { StandardStreams.reportError(error) }
    return write(decision, session.options.format) ? decision.exitStatus : 2
  }

  /// JSON Lines in, one decision per non-blank line out, each written as soon as it is decided.
  /// Exit 0 when every line was answered, 2 when some line was not a valid request (its answer is
  /// still on stdout) or stdin could not be read.
  private static func batch(_ session: VerifySession, metrics: inout VerifyMetrics?) -> Int32 {
    var reader = LineReader(fd: 0, name: "stdin", limit: VerifyRequest.sizeLimit)
    var number = 0
    var status: Int32 = 0
    while true {
      let item: LineReader.Item?
      do {
        item = try reader.next()
      } catch {
        StandardStreams.reportError(PullwardenError(.request, "cannot read requests: \(error)", at: "stdin"))
        return 2
      }
      guard let item else { return status }
      number += 1
      let decision: PullDecision
      var failure: PullwardenError?
      switch item {
      case .tooLong:
        failure = PullwardenError(.request, "request is larger than \(ByteCount(VerifyRequest.sizeLimit))", at: "stdin line \(number)")
        decision = .error(failure!)
      case .line(let bytes):
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
        (decision, failure) = session.answer(bytes, source: "stdin line \(number)", now: .now())
      }
      metrics?.count(decision)
      if let failure {
        StandardStreams.reportError(failure)
        status = 2
      }
      guard write(decision, session.options.format) else { return 2 }
    }
  }

  private static func fail(_ error: PullwardenError, format: VerifyOptions.Format) -> Int32 {
    StandardStreams.reportError(error)
    write(.error(error), format)
    return 2
  }

  /// False when stdout cannot be written; the exit status is then 2, the contract's "error".
  @discardableResult
  private static func write(_ decision: PullDecision, _ format: VerifyOptions.Format) -> Bool {
    StandardStreams.writeOut(decision.rendered(format))
  }
}

/// verify's options as given, before they are checked.
struct VerifyArguments {
  var recordsDir: String
  var policy = VerificationPolicy.default.rawValue
  var allowlist: [String] = []
  var updateRecords = false
  var format = VerifyOptions.Format.json.rawValue
  var batch = false
  var kubeletVersion = KubeletRules.default.rawValue
  var metricsTextfile: String?

  /// The options `Commands.verify` parsed (its required and default values are filled in).
  init(_ parsed: ParsedOptions) {
    recordsDir = parsed.value("records-dir")!
    policy = parsed.value("policy")!
    allowlist = parsed.all("allowlist")
    updateRecords = parsed.flag("update-records")
    format = parsed.value("format")!
    batch = parsed.flag("batch")
    kubeletVersion = parsed.value("kubelet-version")!
    metricsTextfile = parsed.value("metrics-textfile")
  }

  /// The options as the core takes them; policy, format and version errors say which option.
  func options() throws(PullwardenError) -> VerifyOptions {
    var options = VerifyOptions(recordsDirectory: recordsDir)
    options.policy = try VerificationPolicy.parse(policy)
    options.allowlist = allowlist
    options.rules = try KubeletRules.forKubelet(kubeletVersion)
    options.updateRecords = updateRecords
    guard let parsed = VerifyOptions.Format(rawValue: format) else {
      throw PullwardenError(.config, "unknown format \"\(format)\" (expected json or text)", at: "--format")
    }
    options.format = parsed
    return options
  }
}
