import Foundation
import Testing

/// `config check` through the real binary on every config the repository ships (the demo, the README's
/// examples, Fixtures/kubelet and Fixtures/kubernetes): each must be clean, warnings included, once it
/// is installed as the README says (credential files 0600, which git cannot keep, and the paths it
/// names).
@Suite struct ConfigCheckEndToEndTests {
  let scratch: Scratch
  let repository = Pullwarden.fixtures.deletingLastPathComponent()

  init() throws { scratch = try Scratch() }

  private func text(_ relative: String) throws -> String {
    try String(contentsOf: repository.appendingPathComponent(relative), encoding: .utf8)
  }

  private func check(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Pullwarden.Result {
    let result = try Pullwarden.run(["config", "check"] + arguments + ["--strict"], in: scratch.path)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
    #expect(!result.stdout.contains("warning:") && !result.stdout.contains("error:"), "\(result.stdout)", sourceLocation: sourceLocation)
    return result
  }

  /// The README's fenced block that follows `marker`.
  private func readmeBlock(after marker: String) throws -> String {
    let readme = try text("README.md")
    let start = try #require(readme.range(of: marker))
    let open = try #require(readme.range(of: "```yaml\n", range: start.upperBound..<readme.endIndex))
    let close = try #require(readme.range(of: "\n```", range: open.upperBound..<readme.endIndex))
    return String(readme[open.upperBound..<close.lowerBound])
  }

  @Test func theShippedDemoConfigIsClean() throws {
    let demo = scratch.path + "/demo"
    try FileManager.default.copyItem(atPath: Pullwarden.fixtures.appendingPathComponent("demo").path, toPath: demo)
    for file in ["docker-config.json", "secrets/team-a-pull.yaml"] {
      try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: demo + "/" + file)
    }
    let result = try check(["--config", "demo/config.yaml"])
    #expect(result.stdout.hasPrefix("config demo/config.yaml is valid\n"))

    // With the shipped kubelet config, its args pointing at where the demo config now is.
    let kubelet = try scratch.write(
      "credential-provider-config.yaml",
      try text("Fixtures/kubelet/credential-provider-config.yaml").replacingOccurrences(of: "/etc/pullwarden/config.yaml", with: demo + "/config.yaml"))
    _ = try check(["--config", "demo/config.yaml", "--kubelet-config", kubelet])
  }

  @Test func theReadmeConfigurationExampleIsClean() throws {
    // The example's node paths, moved under the scratch folder with the files they name.
    let config = try readmeBlock(after: "## Configuration reference")
      .replacingOccurrences(of: "/etc/pullwarden/secrets", with: scratch.path + "/secrets")
      .replacingOccurrences(of: "/var/lib/kubelet/config.json", with: scratch.path + "/docker.json")
      .replacingOccurrences(of: "/var/lib/pullwarden", with: scratch.path + "/records")
    #expect(!config.contains("/etc/") && !config.contains("/var/"), "a node path is left in \(config)")
    let path = try scratch.write("config.yaml", config)
    try scratch.write("docker.json", #"{"auths": {"mirror.example.com": {"username": "node", "password": "node-password"}}}"#)
    try scratch.write("secrets/team-a.yaml", try text("Fixtures/demo/secrets/team-a-pull.yaml"))
    for file in ["docker.json", "secrets/team-a.yaml"] {
      try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: scratch.path + "/" + file)
    }
    let kubelet = try scratch.write(
      "credential-providers.yaml",
      try readmeBlock(after: "### Point the kubelet at it").replacingOccurrences(of: "/etc/pullwarden/config.yaml", with: path))
    _ = try check(["--config", path, "--kubelet-config", kubelet])
  }

  @Test func theShippedKubernetesSecretsConfigsAreClean() throws {
    let kubeconfig = try scratch.write(
      "kubeconfig",
      "apiVersion: v1\nkind: Config\ncurrent-context: node\ncontexts: [{name: node, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:6443\"}}]\n"
    )
    let config = try scratch.write(
      "secrets.yaml",
      try text("Fixtures/kubernetes/kubernetes-secrets-pullwarden-config.yaml")
        .replacingOccurrences(of: "/var/lib/kubelet/kubeconfig", with: kubeconfig)
        .replacingOccurrences(of: "/var/lib/pullwarden", with: scratch.path + "/records"))
    let kubelet = try scratch.write(
      "kubelet.yaml",
      try text("Fixtures/kubernetes/kubernetes-secrets-credential-provider-config.yaml")
        .replacingOccurrences(of: "/etc/pullwarden/secrets.yaml", with: config))
    // Installed a second time as pullwarden-secrets, as the file's comment says.
    _ = try check(["--config", config, "--kubelet-config", kubelet, "--binary-name", "pullwarden-secrets"])
  }

  @Test func theBinaryNameDefaultsToTheNameItRunsUnder() throws {
    let config = try scratch.write("config.yaml", "recordsDir: records\nsources:\n  - {name: pass, type: passthrough, matchImages: [a.io], username: k8s}\n")
    let kubelet = try scratch.write(
      "kubelet.yaml",
      """
      apiVersion: kubelet.config.k8s.io/v1
      kind: CredentialProviderConfig
      providers:
        - name: pullwarden-token
          apiVersion: credentialprovider.kubelet.k8s.io/v1
          matchImages: [a.io]
          defaultCacheDuration: 5m
          args: [provide, --config, \(config)]
          tokenAttributes: {serviceAccountTokenAudience: a.io, cacheType: Token, requireServiceAccount: true}
      """)
    let renamed = URL(fileURLWithPath: scratch.path + "/pullwarden-token")
    try FileManager.default.createSymbolicLink(at: renamed, withDestinationURL: Pullwarden.binary)
    let asInstalled = try Pullwarden.run(["config", "check", "--config", config, "--kubelet-config", kubelet], binary: renamed)
    #expect(asInstalled.status == 0, "\(asInstalled.stdout)")
    let asPullwarden = try Pullwarden.run(["config", "check", "--config", config, "--kubelet-config", kubelet])
    #expect(asPullwarden.status == 2)
    #expect(asPullwarden.stdout.contains("this binary is installed as \"pullwarden\""))
  }

  @Test func usageErrorsExit64() throws {
    let config = try scratch.write("config.yaml", "sources: []\n")
    for arguments in [["--config", config, "-o", "yaml"], ["--config", config, "--binary-name", "bin/pullwarden"], []] {
      let result = try Pullwarden.run(["config", "check"] + arguments)
      #expect(result.status == 64, "\(arguments): \(result.stderr)")
      #expect(result.stdout.isEmpty)
    }
  }
}
