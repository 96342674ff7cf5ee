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
        records list            List every pull record: image, times, credentials and expiry.
        records inspect         Show the record of one image with every credential and its expiry.
        records gc              Retire records unused for a while, or whose every credential has expired.
        config check            Validate a config file and list its sources.
        version                 Show the version, the commit it was built from and its date.

        See 'pullwarden <subcommand> --help' for detailed help.
      """,
    options: [.flag("version", help: "Show the version.")]
  )

  /// Runs the command line (the words after `pullwarden`); returns the exit status.
  static func main(_ arguments: [String]) -> Int32 {
    let commands: [(CommandSpec, (ParsedOptions) -> Int32)] = [
      (provide, runProvide), (RecordsCommands.list, RecordsCommands.runList), (RecordsCommands.inspect, RecordsCommands.runInspect),
      (RecordsCommands.gc, RecordsCommands.runGC), (configCheck, runConfigCheck), (ExplainCommand.spec, ExplainCommand.run),
      (version, runVersion),
    ]
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
      return ProvideRun.exitCode(for: error.kind)
    }
  }

  static let configOption = OptionSpec.option(
    "config", short: "c", value: "file", help: "Pullwarden config file (YAML or JSON).", required: true)

  // MARK: provide

  static let provide = CommandSpec(
    path: ["provide"],
    abstract: "Answer one CredentialProviderRequest (stdin) with a CredentialProviderResponse (stdout).",
    discussion: """
      Exit status: 0 answered (possibly with no credentials), 1 bad request, 2 bad config, \
      3 a credential source failed, 4 the pull intent could not be recorded (no credentials are \
      handed out). On failure stdout is empty and stderr has one line. The credentials handed out \
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
    options: [.option("output", short: "o", value: "format", help: "text or json.", default: "text")]
  )

  static func runVersion(_ options: ParsedOptions) -> Int32 {
    switch options.value("output") {
    case "json": StandardStreams.writeOut(PullwardenVersion.json)
    case "text": StandardStreams.writeOut(PullwardenVersion.text)
    default: return usageError(UsageError("--output must be text or json"), version)
    }
    return 0
  }

  // MARK: config check

  static let configCheck = CommandSpec(
    path: ["config", "check"],
    abstract: "Validate a config file and list its sources.",
    discussion: "Exit status 0 when the file is valid, 2 when it is not (the error is on stderr).",
    options: [configOption]
  )

  static func runConfigCheck(_ options: ParsedOptions) -> Int32 {
    let config = options.value("config")!
    return reporting { () throws(PullwardenError) in
      let loaded = try PullwardenConfig.load(path: config)
      var lines = ["config \(config) is valid", "records directory: \(loaded.recordsDirectory)"]
      for source in loaded.sources {
        let common = source.common
        lines.append(
          "source \(common.name): type \(source.typeName), cacheKeyType \(common.cacheKeyType.rawValue), cacheDuration \(common.cacheDuration), matchImages \(common.matchImages.map(\.text).joined(separator: ", "))"
        )
        if let tokenSource = source as? any ServiceAccountTokenSource {
          lines.append("  kubelet tokenAttributes: " + describe(tokenSource.kubeletTokenAttributes))
        }
      }
      if let cache = loaded.credentialCache {
        lines.append("credential cache: \(cache.directory), keyed by \(cache.keying.rawValue), refreshed \(cache.refreshBefore) before expiry")
      }
      StandardStreams.writeOut(lines.joined(separator: "\n") + "\n")
      return 0
    }
  }

  /// Why that cacheType, when another would also do.
  static func cacheTypeNote(_ attributes: KubeletTokenAttributes) -> String {
    if attributes.cacheTypeIsRequired { return " (required)" }
    return attributes.cacheType == "Token"
      ? " (or ServiceAccount if the credential depends only on the service account)"
      : " (or Token, to cache per pod)"
  }

  /// What the kubelet's CredentialProviderConfig must say for a token source, on one line.
  static func describe(_ attributes: KubeletTokenAttributes) -> String {
    var parts = [
      "serviceAccountTokenAudience \(attributes.serviceAccountTokenAudience ?? "<the audience your token service expects>")",
      "cacheType \(attributes.cacheType)\(cacheTypeNote(attributes))",
      "requireServiceAccount \(attributes.requireServiceAccount)",
    ]
    if !attributes.requiredAnnotationKeys.isEmpty {
      parts.append("requiredServiceAccountAnnotationKeys [\(attributes.requiredAnnotationKeys.joined(separator: ", "))]")
    }
    if !attributes.optionalAnnotationKeys.isEmpty {
      parts.append("optionalServiceAccountAnnotationKeys [\(attributes.optionalAnnotationKeys.joined(separator: ", "))]")
    }
    return parts.joined(separator: ", ")
  }

  // MARK: verify (run by VerifyInvocation, whose contract answers usage errors on stdout)

  static let verify = CommandSpec(
    path: ["verify"],
    abstract: "Decide whether a pod may use an image already on the node (KEP-2535 MustAttemptImagePull).",
    discussion: """
      Reads {"image", "imageRef"?, "podSecrets"?, "podServiceAccount"?} on stdin and writes \
      {"mustPull", "reason", "detail"}. Without imageRef the image name is the record key (Pullwarden's \
      records); with it, the CRI image ID is (the kubelet's image_manager records). A recorded credential \
      past its expiry never allows reuse.
      Exit status: 0 the pod may use the local image, 1 it must pull (re-verify), 2 error (stdout still \
      says mustPull: true). With --batch: one request per line, one decision per line, exit 0 unless a \
      line was not a valid request (2).
      """,
    options: [
      .option("records-dir", value: "dir", help: "Records directory: Pullwarden's recordsDir or the kubelet's image_manager.", required: true),
      .option("policy", value: "policy", help: "NeverVerify, NeverVerifyPreloadedImages, NeverVerifyAllowlistedImages or AlwaysVerify.", default: VerificationPolicy.default.rawValue),
      .option("allowlist", value: "pattern", help: "An image name or a prefix ending in /* (NeverVerifyAllowlistedImages); repeatable.", repeatable: true),
      .flag("update-records", help: "Apply the kubelet's rotation writes to matched records; without it nothing is written."),
      .option("format", value: "format", help: "json or text.", default: VerifyOptions.Format.json.rawValue),
      .flag("batch", help: "Answer JSON Lines from stdin, one decision per line, keeping records in memory."),
      .option("kubelet-version", value: "version", help: "Follow this kubelet release's image-name rules (1.33 to 1.35, or 1.36 and later).", default: KubeletRules.default.rawValue),
      .option("metrics-textfile", value: "file", help: "Count the decisions by reason in this Prometheus textfile (.prom), merged when verify ends."),
    ]
  )
}
