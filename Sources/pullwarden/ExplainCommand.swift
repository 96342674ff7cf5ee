import PullwardenCore

/// `pullwarden explain IMAGE --config FILE`: why an image gets (or does not get) credentials.
enum ExplainCommand {
  static let spec = CommandSpec(
    path: ["explain"],
    abstract: "Show why an image gets credentials or not: provide's path, source by source, without its side effects.",
    discussion: """
      Runs exactly what provide runs for the request (the same sources, key order and cache rules) and \
      prints, for every source, whether it serves the image and why; the keys in the order the kubelet \
      tries them, each credential by username, origin and hash (never a password or token); the \
      cacheKeyType and cacheDuration with their reasons; and what would be recorded. It writes no \
      record, intent, index or cache file. Without --live no server is contacted: sources say which \
      call they would make.
      Exit status: 0 the image would get credentials, 1 it would not (a miss, provide failing, or \
      undetermined without --live), 2 the config or the --request file is invalid, 64 usage (bad \
      arguments: IMAGE, --service-account, --annotation).
      """,
    options: [
      Commands.configOption,
      .option(
        "request", value: "file", help: "A whole CredentialProviderRequest (- for stdin); IMAGE, if given, replaces its image.",
        completes: .file),
      .option(
        "service-account", value: "ns/name[/uid]",
        help: "Stand in for the kubelet's token: a synthetic token for this service account (not with --live)."),
      .option("annotation", value: "key=value", help: "A service-account annotation the kubelet would pass; repeatable.", repeatable: true),
      .flag("live", help: "Make the calls the sources make (token services, API server) and report status and timing."),
      .output(["text", "json", "yaml"]),
    ],
    argument: ("image", "The image, as in a pod spec (a tag or digest is dropped, as the kubelet does).")
  )

  static func run(_ options: ParsedOptions) -> Int32 {
    let output = options.value("output") ?? "text"
    let image = options.argument
    let request = options.value("request")
    let serviceAccount = options.value("service-account")
    let live = options.flag("live")
    if image == nil && request == nil { return Commands.usageError(UsageError("give IMAGE, or a request with --request FILE"), spec) }
    if live && serviceAccount != nil {
      return Commands.usageError(
        UsageError(
          "--live needs a real service-account token: give the kubelet's request with --request; --service-account only stands in for it without --live"),
        spec)
    }

    let loaded: PullwardenConfig
    do {
      loaded = try PullwardenConfig.load(path: options.value("config")!)
    } catch {
      StandardStreams.reportError(error)
      return 2
    }
    // The calls --live makes need libcurl: a static build continues in pullwarden-dynamic, before
    // reading the request (stdin stays unread for it). Without it, the explanation goes on and shows
    // each call failing.
    if live, !HTTPSupport.isAvailable, loaded.sources.contains(where: \.makesHTTPRequests) {
      do {
        try HandOff.continueInSibling(standardInput: nil)
      } catch {
        StandardStreams.writeError("pullwarden: warning: \(error)")
      }
    }
    let now = Timestamp.now()
    let input: (request: CredentialProviderRequest, syntheticToken: Bool)
    do {
      input = try Explanation.request(
        image: image, requestBytes: try requestBytes(request), requestName: request == "-" ? "stdin" : request ?? "--request",
        serviceAccount: serviceAccount, annotations: options.all("annotation"), config: loaded, now: now)
    } catch {
      StandardStreams.reportError(error)
      return Commands.exitStatus(for: error)
    }
    let explanation = Explanation.explain(
      config: loaded, request: input.request, syntheticToken: input.syntheticToken, live: live, now: now)
    if output != "text" {
      Commands.writeStructured(explanation.json, output)
    } else {
      StandardStreams.writeOut(explanation.text())
    }
    return explanation.exitCode
  }

  /// The bytes of `--request` (a file, or stdin for `-`); nil without it.
  private static func requestBytes(_ request: String?) throws(PullwardenError) -> [UInt8]? {
    guard let request else { return nil }
    do {
      return request == "-"
        ? try FileIO.readAll(fd: 0, limit: CredentialProviderRequest.sizeLimit, name: "stdin")
        : try FileIO.readFile(request, limit: CredentialProviderRequest.sizeLimit)
    } catch {
      throw PullwardenError(.request, "cannot read the request: \(error)", at: "--request")
    }
  }
}
