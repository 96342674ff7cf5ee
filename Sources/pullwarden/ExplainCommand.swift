import ArgumentParser
import PullwardenCore

/// `pullwarden explain IMAGE --config FILE`: why an image gets (or does not get) credentials.
struct ExplainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract: "Show why an image gets credentials or not: provide's path, source by source, without its side effects.",
    discussion: """
      Runs exactly what provide runs for the request (the same sources, key order and cache rules) and \
      prints, for every source, whether it serves the image and why; the keys in the order the kubelet \
      tries them, each credential by username, origin and hash (never a password or token); the \
      cacheKeyType and cacheDuration with their reasons; and what would be recorded. It writes no \
      record, intent, index or cache file. Without --live no server is contacted: sources say which \
      call they would make.
      Exit status: 0 the image would get credentials, 1 it would not (a miss, provide failing, or \
      undetermined without --live), 2 the config is invalid, 64 usage (bad arguments or request).
      """
  )

  @Argument(help: ArgumentHelp("The image, as in a pod spec (a tag or digest is dropped, as the kubelet does).", valueName: "image"))
  var image: String?

  @Option(name: [.short, .long], help: ArgumentHelp("Pullwarden config file (YAML or JSON).", valueName: "file"))
  var config: String

  @Option(help: ArgumentHelp("A whole CredentialProviderRequest (- for stdin); IMAGE, if given, replaces its image.", valueName: "file"))
  var request: String?

  @Option(
    name: .customLong("service-account"),
    help: ArgumentHelp("Stand in for the kubelet's token: a synthetic token for this service account (not with --live).", valueName: "ns/name[/uid]"))
  var serviceAccount: String?

  @Option(name: .customLong("annotation"), help: ArgumentHelp("A service-account annotation the kubelet would pass; repeatable.", valueName: "key=value"))
  var annotations: [String] = []

  @Flag(help: "Make the calls the sources make (token services, API server) and report status and timing.")
  var live = false

  @Option(name: [.short, .long], help: ArgumentHelp("text or json.", valueName: "format"))
  var output: String = "text"

  func validate() throws {
    guard output == "text" || output == "json" else { throw ValidationError("--output must be text or json, not \(output)") }
    if image == nil && request == nil { throw ValidationError("give IMAGE, or a request with --request FILE") }
    if live && serviceAccount != nil {
      throw ValidationError(
        "--live needs a real service-account token: give the kubelet's request with --request; --service-account only stands in for it without --live")
    }
  }

  func run() throws {
    let loaded: PullwardenConfig
    do {
      loaded = try PullwardenConfig.load(path: config)
    } catch {
      StandardStreams.reportError(error)
      throw ExitCode(2)
    }
    let now = Timestamp.now()
    let input: (request: CredentialProviderRequest, syntheticToken: Bool)
    do {
      input = try Explanation.request(
        image: image, requestBytes: try requestBytes(), requestName: request == "-" ? "stdin" : request ?? "--request",
        serviceAccount: serviceAccount, annotations: annotations, config: loaded, now: now)
    } catch {
      StandardStreams.reportError(error)
      throw ExitCode(64)
    }
    let explanation = Explanation.explain(
      config: loaded, request: input.request, syntheticToken: input.syntheticToken, live: live, now: now)
    if output == "json" {
      StandardStreams.writeOut(JSON.encode(explanation.json) + [UInt8(ascii: "\n")])
    } else {
      StandardStreams.writeOut(explanation.text())
    }
    if explanation.exitCode != 0 { throw ExitCode(explanation.exitCode) }
  }

  /// The bytes of `--request` (a file, or stdin for `-`); nil without it.
  private func requestBytes() throws(PullwardenError) -> [UInt8]? {
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
