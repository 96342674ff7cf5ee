import ArgumentParser
import PullwardenCore

/// The command tree: one type per command, help text from the doc comments.
struct Pullwarden: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pullwarden",
    abstract: "A kubelet image credential provider that records every credential it hands out.",
    discussion: """
      Configure it in the kubelet's CredentialProviderConfig with args ["provide", "--config", FILE]; \
      the kubelet writes a CredentialProviderRequest to stdin and reads the response from stdout.
      """,
    version: PullwardenVersion.current,
    subcommands: [ProvideCommand.self, VerifyCommand.self, RecordsCommand.self, ConfigCommand.self, ExplainCommand.self]
  )
}

/// Answers one CredentialProviderRequest from stdin with a CredentialProviderResponse on stdout.
struct ProvideCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "provide",
    abstract: "Answer one CredentialProviderRequest (stdin) with a CredentialProviderResponse (stdout).",
    discussion: """
      Exit status: 0 answered (possibly with no credentials), 1 bad request, 2 bad config, \
      3 a credential source failed, 4 the pull intent could not be recorded (no credentials are \
      handed out). On failure stdout is empty and stderr has one line. The credentials handed out \
      are recorded (hashed) under the config's recordsDir, after a durable pull intent; a record that \
      cannot be written after the intent is reported on stderr and does not fail the answer (the \
      intent makes every pod re-verify the image).
      """
  )

  @Option(name: [.short, .long], help: ArgumentHelp("Pullwarden config file (YAML or JSON).", valueName: "file"))
  var config: String

  func run() throws {
    let status = ProvideInvocation.run(configPath: config)
    if status != 0 { throw ExitCode(status) }
  }
}

/// Checks a config file the way `provide` loads it, without answering a request.
struct ConfigCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "config",
    abstract: "Work with Pullwarden config files.",
    subcommands: [Check.self]
  )

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Validate a config file and list its sources.",
      discussion: "Exit status 0 when the file is valid, 2 when it is not (the error is on stderr)."
    )

    @Option(name: [.short, .long], help: ArgumentHelp("Pullwarden config file (YAML or JSON).", valueName: "file"))
    var config: String

    func run() throws {
      let loaded: PullwardenConfig
      do {
        loaded = try PullwardenConfig.load(path: config)
      } catch {
        StandardStreams.reportError(error)
        throw ExitCode(ProvideRun.exitCode(for: error.kind))
      }
      var lines = ["config \(config) is valid", "records directory: \(loaded.recordsDirectory)"]
      for source in loaded.sources {
        let common = source.common
        lines.append(
          "source \(common.name): type \(source.typeName), cacheKeyType \(common.cacheKeyType.rawValue), cacheDuration \(common.cacheDuration), matchImages \(common.matchImages.map(\.text).joined(separator: ", "))"
        )
        if let tokenSource = source as? any ServiceAccountTokenSource {
          lines.append("  kubelet tokenAttributes: " + Self.describe(tokenSource.kubeletTokenAttributes))
        }
      }
      if let cache = loaded.credentialCache {
        lines.append("credential cache: \(cache.directory), keyed by \(cache.keying.rawValue), refreshed \(cache.refreshBefore) before expiry")
      }
      StandardStreams.writeOut(lines.joined(separator: "\n") + "\n")
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
  }
}

/// Decides whether a pod may use an image already on the node, from pull records.
struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Decide whether a pod may use an image already on the node (KEP-2535 MustAttemptImagePull).",
    discussion: """
      Reads {"image", "imageRef"?, "podSecrets"?, "podServiceAccount"?} on stdin and writes \
      {"mustPull", "reason", "detail"}. Without imageRef the image name is the record key (Pullwarden's \
      records); with it, the CRI image ID is (the kubelet's image_manager records). A recorded credential \
      past its expiry never allows reuse.
      Exit status: 0 the pod may use the local image, 1 it must pull (re-verify), 2 error (stdout still \
      says mustPull: true). With --batch: one request per line, one decision per line, exit 0 unless a \
      line was not a valid request (2).
      """
  )

  @Option(name: .customLong("records-dir"), help: ArgumentHelp("Records directory: Pullwarden's recordsDir or the kubelet's image_manager.", valueName: "dir"))
  var recordsDir: String

  @Option(help: ArgumentHelp("NeverVerify, NeverVerifyPreloadedImages, NeverVerifyAllowlistedImages or AlwaysVerify.", valueName: "policy"))
  var policy: String = VerificationPolicy.default.rawValue

  @Option(help: ArgumentHelp("An image name or a prefix ending in /* (NeverVerifyAllowlistedImages); repeatable.", valueName: "pattern"))
  var allowlist: [String] = []

  @Flag(name: .customLong("update-records"), help: "Apply the kubelet's rotation writes to matched records; without it nothing is written.")
  var updateRecords = false

  @Option(help: ArgumentHelp("json or text.", valueName: "format"))
  var format: String = VerifyOptions.Format.json.rawValue

  @Flag(help: "Answer JSON Lines from stdin, one decision per line, keeping records in memory.")
  var batch = false

  @Option(name: .customLong("kubelet-version"), help: ArgumentHelp("Follow this kubelet release's image-name rules (1.33 to 1.35, or 1.36 and later).", valueName: "version"))
  var kubeletVersion: String = KubeletRules.default.rawValue

  func run() throws {
    let status = VerifyInvocation.run(arguments)
    if status != 0 { throw ExitCode(status) }
  }
}
