import PullwardenCore

/// `pullwarden audit`: which running pods would break if the kubelet's verification policy tightened.
enum AuditCommand {
  static let spec = CommandSpec(
    path: ["audit"],
    abstract: "Show which pods would keep working, re-pull or fail under each image pull credential verification policy.",
    discussion: """
      Reads pods (kubectl get pods -o json, one node's or the cluster's), optionally their pull Secrets \
      (kubectl get secrets -o json; credential hashes are computed locally and never a credential is \
      printed) and the node's records (the kubelet's image_manager or Pullwarden's recordsDir). For every \
      container whose image is on the node it asks the verifier what NeverVerify, NeverVerifyPreloadedImages, \
      NeverVerifyAllowlistedImages and AlwaysVerify would decide, and sorts the pods into: keeps working, \
      must re-pull and holds credentials, would fail. The kubelet keys its records by the runtime's image \
      ID: with --images (crictl images -o json) images are matched through it, otherwise through the image \
      names in the records; the output says which.
      Exit status: 0 the audit ran (even when pods would fail), 1 with --fail-on-breakage when some pod \
      would fail under --policy, 2 an input file is invalid, 4 the records cannot be read, 5 stdout \
      cannot be written, 64 usage.
      """,
    options: [
      .option("pods", value: "file", help: "kubectl get pods -o json output (a List or one Pod; - for stdin).", required: true, completes: .file),
      .option(
        "records-dir", value: "dir", help: "The node's records: the kubelet's image_manager or Pullwarden's recordsDir.", required: true,
        completes: .directory),
      .option("secrets", value: "file", help: "kubectl get secrets -o json output: the pods' pull Secrets.", completes: .file),
      .option(
        "service-accounts", value: "file", help: "kubectl get serviceaccounts -o json output: uids of the pods' service accounts.",
        completes: .file),
      .option("images", value: "file", help: "crictl images -o json output from the node: image names to runtime image IDs.", completes: .file),
      .option("config", short: "c", value: "file", help: "Pullwarden config: its sources also give pods credentials.", completes: .file),
      .option("node", value: "name", help: "Audit only the pods scheduled to this node (spec.nodeName), for a cluster-wide --pods."),
      .option(
        "kubelet-version", value: "version", help: "Follow this kubelet release's image-name rules (1.33 to 1.35, or 1.36 and later).",
        default: KubeletRules.default.rawValue),
      .option(
        "allowlist", value: "pattern", help: "preloadedImagesVerificationAllowlist entry for NeverVerifyAllowlistedImages; repeatable.",
        repeatable: true),
      .option(
        "policy", value: "policy", help: "The policy --fail-on-breakage judges.", default: VerificationPolicy.alwaysVerify.rawValue,
        choices: VerificationPolicy.allCases.map(\.rawValue)),
      .flag("fail-on-breakage", help: "Exit 1 when some pod would fail under --policy."),
      .output(["text", "json", "yaml"]),
    ]
  )

  static func run(_ options: ParsedOptions) -> Int32 {
    let output = options.value("output")!
    let podsPath = options.value("pods")!
    let stdinUsers = [podsPath] + ["secrets", "service-accounts", "images"].compactMap { options.value($0) }
    if stdinUsers.count(where: { $0 == "-" }) > 1 {
      return Commands.usageError(UsageError("only one input can be read from stdin (-)"), spec)
    }
    let failPolicy: VerificationPolicy
    var auditOptions = AuditOptions(recordsDirectory: options.value("records-dir")!)
    do {
      failPolicy = try VerificationPolicy.parse(options.value("policy")!)
      auditOptions.rules = try KubeletRules.forKubelet(options.value("kubelet-version")!)
    } catch {
      return Commands.usageError(UsageError(error.what), spec)
    }
    auditOptions.allowlist = options.all("allowlist")
    auditOptions.node = options.value("node")
    do {
      // Checked here so that a bad pattern is a usage error, as a bad --policy is.
      _ = try ImageAllowlist(auditOptions.allowlist, rules: auditOptions.rules)
    } catch {
      return Commands.usageError(UsageError(error.what), spec)
    }

    return Commands.reporting { () throws(PullwardenError) in
      let pods = try AuditPod.parseList(try read(podsPath, option: "--pods", limit: AuditLimits.objectListBytes), name: name(podsPath))
      let secrets = try options.value("secrets").map { path throws(PullwardenError) in
        try AuditSecrets.parseList(try read(path, option: "--secrets", limit: AuditLimits.objectListBytes), name: name(path))
      }
      let accounts = try options.value("service-accounts").map { path throws(PullwardenError) in
        try Audit.serviceAccountUIDs(try read(path, option: "--service-accounts", limit: AuditLimits.objectListBytes), name: name(path))
      }
      let images = try options.value("images").map { path throws(PullwardenError) in
        try RuntimeImages.parse(try read(path, option: "--images", limit: AuditLimits.imageListBytes), name: name(path))
      }
      let config = try options.value("config").map { path throws(PullwardenError) in try PullwardenConfig.load(path: path) }
      let audit = try Audit(options: auditOptions, secrets: secrets, serviceAccountUIDs: accounts, images: images, config: config)
      let report = audit.run(pods, now: .now())
      for warning in report.warnings.prefix(Self.warningLimit) { StandardStreams.writeError("pullwarden: warning: \(warning)\n") }
      if report.warnings.count > Self.warningLimit {
        StandardStreams.writeError("pullwarden: warning: … and \(report.warnings.count - Self.warningLimit) more (see -o json)\n")
      }
      if !report.write(output, to: { StandardStreams.writeOut($0) }) {
        throw PullwardenError(.output, "cannot write the audit", at: "stdout")
      }
      return options.flag("fail-on-breakage") && report.hasBreakage(failPolicy) ? 1 : 0
    }
  }

  /// Warnings written to stderr; the JSON output has them all.
  static let warningLimit = 20

  private static func name(_ path: String) -> String { path == "-" ? "stdin" : path }

  private static func read(_ path: String, option: String, limit: Int) throws(PullwardenError) -> [UInt8] {
    do {
      return path == "-" ? try FileIO.readAll(fd: 0, limit: limit, name: "stdin") : try FileIO.readFile(path, limit: limit)
    } catch is FileTooLarge {
      throw PullwardenError(.config, "larger than \(ByteCount(limit))", at: name(path))
    } catch {
      throw PullwardenError(.config, "cannot read \(option): \(error)", at: name(path))
    }
  }
}
