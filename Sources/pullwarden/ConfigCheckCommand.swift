import PullwardenCore

/// `pullwarden config check --config FILE [--kubelet-config FILE]`: everything that would make provide
/// (or the kubelet) fail later, found now; the work is `ConfigCheck` in PullwardenCore.
enum ConfigCheckCommand {
  static let spec = CommandSpec(
    path: ["config", "check"],
    abstract: "Validate a config (and the kubelet's) and find what would fail later.",
    discussion: """
      Loads the config as provide does, then checks every file provide reads (docker configs, Secret \
      directories and files, kubeconfigs, CA and client certificates), that recordsDir and the \
      credential cache can be written (a probe that leaves nothing behind), and warns about patterns \
      that will surprise (a bare *, index.docker.io, upper case, a tag, a missing port), shadowed \
      sources, node-wide dockerConfig sources that overlap Secret sources, and credential files others \
      can read. With --kubelet-config it checks the kubelet's CredentialProviderConfig against this \
      config: provider name, args, apiVersion, tokenAttributes, matchImages and defaultCacheDuration. \
      Every problem is reported, each with its file, line and fix.
      Exit status: 0 clean (warnings allowed), 1 warnings with --strict, 2 errors, 64 usage.
      """,
    options: [
      Commands.configOption,
      .option("kubelet-config", value: "file", help: "The kubelet's CredentialProviderConfig (YAML or JSON), to cross-check."),
      .option("binary-name", value: "name", help: "The file name Pullwarden is installed under in the kubelet's bin dir (default: this program's name)."),
      .flag("strict", help: "Exit 1 when there are warnings (and no errors)."),
      .output(["text", "json"]),
    ]
  )

  static func run(_ options: ParsedOptions) -> Int32 {
    let output = options.value("output") ?? "text"
    let binaryName = options.value("binary-name") ?? programName
    if binaryName.isEmpty || binaryName.contains("/") {
      return Commands.usageError(UsageError("--binary-name must be a file name, without '/'"), spec)
    }
    let report = ConfigCheck.run(configPath: options.value("config")!, kubeletConfigPath: options.value("kubelet-config"), binaryName: binaryName)
    let text = output == "json" ? JSON.encode(report.json) + [UInt8(ascii: "\n")] : Array(report.text().utf8)
    guard StandardStreams.writeOut(text) else { return 5 }
    // Scripts and the kubelet's habit read stderr for why a command failed: the first error there too.
    if output == "text", let first = report.errors.first {
      let more = report.errors.count > 1 ? "; \(report.errors.count - 1) more on stdout" : ""
      StandardStreams.writeError(Escaping.line("pullwarden: \(first.message) (\(first.file ?? report.configPath)\(first.line.map { ":\($0)" } ?? ""))\(more)") + "\n")
    }
    return report.exitCode(strict: options.flag("strict"))
  }

  /// The name this program was run as: the kubelet runs `<bin-dir>/<provider name>`.
  static var programName: String {
    let path = CommandLine.arguments.first ?? "pullwarden"
    let name = path.split(separator: "/").last.map(String.init) ?? path
    return name.isEmpty ? "pullwarden" : name
  }
}
