#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import PullwardenCore

/// The `verify` command's work. Its contract differs from the other commands: stdout always carries a
/// decision, even for a usage error (`{"mustPull":true,"reason":"error",…}`, exit 64), so that a
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
      return fail(PullwardenError(.config, error.message, at: "command line"), format: requestedFormat(arguments))
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
    // --metrics-textfile, else the metrics: of --config; neither, and verify counts nothing.
    var metricsPath = command.metricsTextfile
    var metrics = metricsPath.map { _ in VerifyMetrics() }
    // After the answers are out: counting never delays or changes a decision.
    defer { if let metrics, let metricsPath { write(metrics, to: metricsPath) } }
    let session: VerifySession
    do {
      let (options, configuredMetrics) = try command.options()
      if metricsPath == nil, let configuredMetrics {
        metricsPath = configuredMetrics
        metrics = VerifyMetrics()
      }
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

  /// The format asked for, read from arguments that did not parse: text only when plainly asked for.
  private static func requestedFormat(_ arguments: [String]) -> VerifyOptions.Format {
    let names: Set = ["--format", "--output", "-o"]
    let separate = zip(arguments, arguments.dropFirst()).contains { names.contains($0.0) && $0.1 == "text" }
    return separate || arguments.contains("--format=text") || arguments.contains("--output=text") ? .text : .json
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
    return write(decision, session) ? decision.exitStatus : 5
  }

  /// JSON Lines in, one decision per non-blank line out, each written as soon as it is decided.
  /// Exit 0 when every line was answered, 2 when some line was not a valid request (its answer is
  /// still on stdout) or stdin could not be read, 5 when stdout could not be written.
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
      guard write(decision, session) else { return 5 }
    }
  }

  /// Reports `error` and answers must pull; the status is the convention's for the error (2 invalid
  /// request or config, 4 records, 64 usage), never 0 or 1.
  private static func fail(_ error: PullwardenError, format: VerifyOptions.Format) -> Int32 {
    StandardStreams.reportError(error)
    StandardStreams.writeOut(PullDecision.error(error).rendered(format))
    return Commands.exitStatus(for: error)
  }

  /// Writes the decision, naming the record `--update-records` rewrote: a `recordUpdated` member in
  /// JSON, a stderr line in text (stdout stays one decision line). False when stdout cannot be written.
  private static func write(_ decision: PullDecision, _ session: VerifySession) -> Bool {
    let format = session.options.format
    guard let update = session.written else { return StandardStreams.writeOut(decision.rendered(format)) }
    if format == .text {
      StandardStreams.writeError(
        "pullwarden: updated the pull record of \(update.imageRef) in \(session.reader.store.directory): \(update.imageName) now holds Secret \(update.secret.namespace)/\(update.secret.name) (uid \(update.secret.uid)) with credential hash \(update.secret.credentialHash)\n")
      return StandardStreams.writeOut(decision.rendered(format))
    }
    guard case .object(var answer) = decision.json else { return StandardStreams.writeOut(decision.rendered(format)) }
    answer["recordUpdated"] = .object([
      "imageRef": .string(update.imageRef), "image": .string(update.imageName),
      "secret": .object([
        "namespace": .string(update.secret.namespace), "name": .string(update.secret.name), "uid": .string(update.secret.uid),
        "credentialHash": .string(update.secret.credentialHash),
      ]),
    ])
    return StandardStreams.writeOut(JSON.encode(.object(answer)) + [UInt8(ascii: "\n")])
  }
}

/// verify's options as given, before they are checked.
struct VerifyArguments {
  var policy = VerificationPolicy.default.rawValue
  var allowlist: [String] = []
  var updateRecords = false
  var format = VerifyOptions.Format.json.rawValue
  var batch = false
  var kubeletVersion = KubeletRules.default.rawValue
  var metricsTextfile: String?

  /// Where the records are: `--records-dir`, or the `recordsDir` of `--config`.
  var location: ParsedOptions

  /// The options `Commands.verify` parsed (its required and default values are filled in).
  init(_ parsed: ParsedOptions) {
    location = parsed
    policy = parsed.value("policy")!
    allowlist = parsed.all("allowlist")
    updateRecords = parsed.flag("update-records")
    format = parsed.value("format") ?? parsed.value("output")!
    batch = parsed.flag("batch")
    kubeletVersion = parsed.value("kubelet-version")!
    metricsTextfile = parsed.value("metrics-textfile")
  }

  /// The options as the core takes them, and the metrics textfile of `--config` (if it has one);
  /// policy, format and version errors say which option.
  func options() throws(PullwardenError) -> (VerifyOptions, metricsTextfile: String?) {
    var configuredMetrics: String?
    let directory: String
    if location.value("records-dir") == nil, let path = location.value("config") {
      // The config is read once, for its records directory and its metrics.
      let config = try PullwardenConfig.load(path: path)
      directory = config.recordsDirectory
      configuredMetrics = config.metrics?.textfile
    } else {
      directory = try RecordsCommands.recordStore(location).directory
    }
    var options = VerifyOptions(recordsDirectory: directory)
    options.policy = try VerificationPolicy.parse(policy)
    options.allowlist = allowlist
    options.rules = try KubeletRules.forKubelet(kubeletVersion)
    options.updateRecords = updateRecords
    guard let parsed = VerifyOptions.Format(rawValue: format) else {
      throw PullwardenError(.config, "unknown format \"\(format)\" (expected json or text)", at: "--format")
    }
    options.format = parsed
    return (options, configuredMetrics)
  }
}
