import PullwardenCore

/// The command tree: each command's options described once (`CommandSpec`), its work in a function.
enum Commands {
  static let root = CommandSpec(
    path: [],
    abstract: "A kubelet image credential provider that records every credential it hands out.",
    discussion: """
      Configure it in the kubelet's CredentialProviderConfig with args ["provide", "--config", FILE]; \
      the kubelet writes a CredentialProviderRequest to stdin and reads the response from stdout.

      SUBCOMMANDS:
        provide                 Answer one CredentialProviderRequest (stdin) with a CredentialProviderResponse (stdout).
        verify                  Decide whether a pod may use an image already on the node (KEP-2535 MustAttemptImagePull).
        explain                 Show why an image gets credentials or not, source by source, without side effects.
        audit                   Show which pods would keep working, re-pull or fail under each verification policy.
        lint                    Report pull-policy risks in Pod and workload manifests, with file:line.
        records list            List every pull record: image, times, credentials and expiry.
        records inspect         Show the record of one image with every credential and its expiry.
        records gc              Retire records unused for a while, or whose every credential has expired.
        config check            Validate a config (and the kubelet's) and find what would fail later.
        version                 Show the version, the commit it was built from and its date.
        completion              Print a bash, zsh or fish completion script.

        See 'pullwarden <subcommand> --help' for detailed help.
      """,
    options: [.flag("version", help: "Show the version.")]
  )

  /// Every command with its work, in the order help, completions and the manual list them.
  static var commands: [(CommandSpec, (ParsedOptions) -> Int32)] {
    [
    (provide, runProvide), (verify, { VerifyInvocation.run(VerifyArguments($0)) }), (ExplainCommand.spec, ExplainCommand.run),
    (AuditCommand.spec, AuditCommand.run), (LintCommand.spec, LintCommand.run),
    (RecordsCommands.list, RecordsCommands.runList), (RecordsCommands.inspect, RecordsCommands.runInspect),
    (RecordsCommands.gc, RecordsCommands.runGC), (ConfigCheckCommand.spec, ConfigCheckCommand.run),
    (version, runVersion), (CompletionCommand.spec, CompletionCommand.run), (ManualCommand.spec, ManualCommand.run),
    ]
  }

  /// Runs the command line (the words after `pullwarden`); returns the exit status.
  static func main(_ arguments: [String]) -> Int32 {
    if arguments.first == "verify" { return VerifyInvocation.main(arguments: Array(arguments.dropFirst())) }
    for (spec, run) in commands where arguments.starts(with: spec.path) {
      return parse(Array(arguments.dropFirst(spec.path.count)), spec, run: run)
    }
    if arguments == ["--version"] {
      StandardStreams.writeOut(PullwardenVersion.text)
      return 0
    }
    // A group without its subcommand, or nothing at all: the overview.
    if arguments.isEmpty || arguments == ["help"] || arguments.allSatisfy({ $0 == "-h" || $0 == "--help" })
      || arguments == ["records"] || arguments == ["config"]
      || (arguments.count == 2 && ["records", "config"].contains(arguments[0]) && ["-h", "--help"].contains(arguments[1]))
    {
      StandardStreams.writeOut(root.help)
      return 0
    }
    let unknown = arguments.first { !["records", "config"].contains($0) } ?? arguments[0]
    return usageError(UsageError(unknown.hasPrefix("-") ? "Unknown option '\(unknown)'" : "Unexpected argument '\(unknown)'"), root)
  }

  static func parse(_ arguments: [String], _ spec: CommandSpec, run: (ParsedOptions) -> Int32) -> Int32 {
    do {
      switch try spec.parse(arguments) {
      case .help:
        StandardStreams.writeOut(spec.help)
        return 0
      case .parsed(let options):
        return run(options)
      }
    } catch {
      return usageError(error, spec)
    }
  }

  /// ArgumentParser's form: the error, then the usage line; exit status 64 (EX_USAGE).
  static func usageError(_ error: UsageError, _ spec: CommandSpec) -> Int32 {
    StandardStreams.writeError("Error: \(error.message)\n")
    StandardStreams.writeError("Usage: \(spec.usage)\n")
    StandardStreams.writeError("  See 'pullwarden \((spec.path + ["--help"]).joined(separator: " "))' for more help.\n")
    return 64
  }

  /// Runs `body`, turning a PullwardenError into one stderr line and its exit status.
  static func reporting(_ body: () throws(PullwardenError) -> Int32) -> Int32 {
    do {
      return try body()
    } catch {
      StandardStreams.reportError(error)
      return exitStatus(for: error)
    }
  }

  /// The exit status of every command but provide (whose statuses are the kubelet's contract; see
  /// README, Exit status): an error located on the command line is usage (64), an invalid request or
  /// input file is 2 like an invalid config, and sources, records and stdout keep provide's 3, 4, 5.
  static func exitStatus(for error: PullwardenError) -> Int32 {
    if let at = error.location, at == "command line" || at.hasPrefix("command line,") || (at.hasPrefix("--") && at != "--request") {
      return 64
    }
    return error.kind == .request ? 2 : ProvideRun.exitCode(for: error.kind)
  }

  /// Writes a report as one line of JSON or as a YAML document (`-o json`, `-o yaml`).
  static func writeStructured(_ value: JSONValue, _ format: String) {
    if format == "yaml" {
      StandardStreams.writeOut(YAMLEmitter.emit(value))
    } else {
      StandardStreams.writeOut(JSON.encode(value) + [UInt8(ascii: "\n")])
    }
  }

  static let configOption = OptionSpec.option(
    "config", short: "c", value: "file", help: "Pullwarden config file (YAML or JSON).", required: true, completes: .file)

  // MARK: provide

  static let provide = CommandSpec(
    path: ["provide"],
    abstract: "Answer one CredentialProviderRequest (stdin) with a CredentialProviderResponse (stdout).",
    discussion: """
      Exit status: 0 answered (possibly with no credentials), 1 bad request, 2 bad config, \
      3 a credential source failed, 4 the pull intent could not be recorded (no credentials are \
      handed out), 5 the response could not be written, 64 usage. On failure stdout is empty and stderr has one line. The credentials handed out \
      are recorded (hashed) under the config's recordsDir, after a durable pull intent; a record that \
      cannot be written after the intent is reported on stderr and does not fail the answer (the \
      intent makes every pod re-verify the image).
      """,
    options: [configOption]
  )

  static func runProvide(_ options: ParsedOptions) -> Int32 {
    ProvideInvocation.run(configPath: options.value("config")!)
  }

  // MARK: version

  static let version = CommandSpec(
    path: ["version"],
    abstract: "Show the version, the commit it was built from and its date (as --version does).",
    options: [.output(["text", "json", "yaml"])]
  )

  static func runVersion(_ options: ParsedOptions) -> Int32 {
    switch options.value("output") {
    case "text": StandardStreams.writeOut(PullwardenVersion.text)
    case let format?: writeStructured(PullwardenVersion.value, format)
    case nil: break
    }
    return 0
  }

  // MARK: verify (run by VerifyInvocation, whose contract answers usage errors on stdout)

  static let verify = CommandSpec(
    path: ["verify"],
    abstract: "Decide whether a pod may use an image already on the node (KEP-2535 MustAttemptImagePull).",
    discussion: """
      Reads {"image", "imageRef"?, "podSecrets"?, "podServiceAccount"?} on stdin and writes \
      {"mustPull", "reason", "detail"}. Without imageRef the image name is the record key (Pullwarden's \
      records); with it, the CRI image ID is (the kubelet's image_manager records). A recorded credential \
      past its expiry never allows reuse. With --update-records, a record rewritten is named in the \
      answer ("recordUpdated" in JSON, one stderr line in text).
      Exit status: 0 the pod may use the local image, 1 it must pull (re-verify); on any error stdout \
      still says mustPull: true and the status is 2 (invalid request or config), 4 (records unreadable \
      or untrusted), 5 (stdout failed) or 64 (usage). With --batch: one request per line, one decision \
      per line, exit 0 unless a line was not a valid request (2).
      """,
    options: RecordsCommands.locationOptions + [
      .option(
        "policy", value: "policy", help: "NeverVerify, NeverVerifyPreloadedImages, NeverVerifyAllowlistedImages or AlwaysVerify.",
        default: VerificationPolicy.default.rawValue, choices: VerificationPolicy.allCases.map(\.rawValue)),
      .option("allowlist", value: "pattern", help: "An image name or a prefix ending in /* (NeverVerifyAllowlistedImages); repeatable.", repeatable: true),
      .flag("update-records", help: "Apply the kubelet's rotation writes to matched records; without it nothing is written."),
      .output(["json", "text"]),
      .option("format", value: "format", help: "Older spelling of --output.", hidden: true),
      .flag("batch", help: "Answer JSON Lines from stdin, one decision per line, keeping records in memory."),
      .option("kubelet-version", value: "version", help: "Follow this kubelet release's image-name rules (1.33 to 1.35, or 1.36 and later).", default: KubeletRules.default.rawValue),
      .option("metrics-textfile", value: "file", help: "Count the decisions by reason in this Prometheus textfile (.prom), merged when verify ends (default: the metrics textfile of --config, if any)."),
    ]
  )
}
