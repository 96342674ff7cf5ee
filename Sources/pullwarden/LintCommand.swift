import PullwardenCore

/// `pullwarden lint FILE|DIR|-...`: pull-policy risks in manifests, before they reach a node.
enum LintCommand {
  static let spec = CommandSpec(
    path: ["lint"],
    abstract: "Report pull-policy risks in Pod and workload manifests (files, directories, - for stdin).",
    discussion: """
      Reads Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs, \
      CronJobs, PodTemplates and Lists of them (multi-document YAML or JSON; directories recursively, \
      *.yaml, *.yml and *.json) and reports, per container (init and ephemeral ones included) with \
      file:line:column: latest-tag-without-policy, always-on-digest and \
      private-image-without-credentials. With --config, an image counts as covered when a source of \
      that config serves it, and the sources are named. Silence a finding with the annotation \
      pullwarden.dev/lint-ignore: "RULE[:CONTAINER], ..." on the object or its pod template. \
      See docs/lint.md.
      -o json and yaml list findings, suppressed findings and every container checked; -o sarif is \
      SARIF 2.1.0 for code-scanning tools.
      Exit status: 0 no findings, 1 findings, 2 an input file could not be read or is invalid \
      (the other files and documents are still linted) or the config is invalid, 5 stdout could not \
      be written, 64 usage.
      """,
    options: [
      .option(
        "config", short: "c", value: "file", help: "Pullwarden config: images its sources serve count as having credentials.",
        completes: .file),
      .output(["text", "json", "yaml", "sarif"]),
    ],
    argument: ("path", "A manifest file, a directory, or - for stdin; repeatable."),
    repeatsArgument: true
  )

  static func run(_ options: ParsedOptions) -> Int32 {
    let output = options.value("output") ?? "text"
    let paths = options.arguments
    if paths.isEmpty { return Commands.usageError(UsageError("give at least one manifest file, directory, or - for stdin"), spec) }
    if paths.filter({ $0 == "-" }).count > 1 { return Commands.usageError(UsageError("- (stdin) may be given once"), spec) }

    var config: PullwardenConfig?
    if let path = options.value("config") {
      do {
        config = try PullwardenConfig.load(path: path)
      } catch {
        StandardStreams.reportError(error)
        return 2
      }
    }
    var linter = Linter(config: config)
    for path in paths {
      linter.lint(path: path) { try FileIO.readAll(fd: 0, limit: LintLimits.fileSize, name: "stdin") }
    }
    let report = linter.makeReport()
    for warning in report.warnings { StandardStreams.writeError("pullwarden: \(warning)\n") }
    for error in report.errors { StandardStreams.reportError(error) }
    let written: Bool
    switch output {
    case "json": written = StandardStreams.writeOut(JSON.encode(report.json()) + [UInt8(ascii: "\n")])
    case "yaml": written = StandardStreams.writeOut(YAMLEmitter.emit(report.json()))
    case "sarif": written = StandardStreams.writeOut(JSON.encode(report.sarif(toolVersion: PullwardenVersion.current)) + [UInt8(ascii: "\n")])
    default: written = StandardStreams.writeOut(report.text())
    }
    return written ? report.exitCode : 5
  }
}
