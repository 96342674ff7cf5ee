import Foundation
import Testing

/// The provide command through the real process: streams, exit codes and the two argument paths.
@Suite struct ProvideEndToEndTests {
  let scratch: Scratch
  let config: String

  init() throws {
    scratch = try Scratch()
    try scratch.write("docker.json", #"{"auths":{"registry.example.com":{"auth":"dXNlcjpwYXNzd29yZA=="}}}"#)
    config = try scratch.write(
      "config.yaml",
      "sources: [{name: node, type: dockerConfig, matchImages: ['*.example.com'], path: docker.json, cacheKeyType: Registry}]\n")
  }

  @Test(arguments: [["provide", "--config"], ["provide", "-c"], ["provide", "--config="]])
  func answersOnStdoutWithExitZero(prefix: [String]) throws {
    // "--config X" takes the fast path; "-c X" and "--config=X" exercise ArgumentParser and the other fast form.
    let arguments = prefix.last!.hasSuffix("=") ? ["provide", "--config=" + config] : prefix + [config]
    let result = try Pullwarden.run(arguments, stdin: request(image: "registry.example.com/team/app"))
    #expect(result.status == 0)
    #expect(result.stderr.isEmpty)
    #expect(result.stdout.hasSuffix("\n") && result.stdout.filter { $0 == "\n" }.count == 1)
    let response = try jsonObject(result.stdout)
    #expect(response["kind"] as? String == "CredentialProviderResponse")
    #expect(response["apiVersion"] as? String == "credentialprovider.kubelet.k8s.io/v1")
    #expect(response["cacheKeyType"] as? String == "Registry")
    #expect(response["cacheDuration"] as? String == "5m0s")
    let auth = try #require(response["auth"] as? [String: [String: String]])
    #expect(auth == ["registry.example.com": ["username": "user", "password": "password"]])
  }

  @Test(arguments: [
    ("", Int32(1), "no request"),
    ("{\"kind\":\"CredentialProviderRequest\",\"kind\":\"x\"}", 1, "duplicate object key"),
    ("{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"v9\",\"image\":\"a\"}", 1, "unsupported apiVersion"),
  ])
  func badRequestsFailWithOneLineAndNoStdout(stdin: String, status: Int32, fragment: String) throws {
    let result = try Pullwarden.run(["provide", "--config", config], stdin: stdin)
    #expect(result.status == status)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.hasPrefix("pullwarden: "))
    #expect(result.stderr.contains(fragment))
    #expect(result.stderr.filter { $0 == "\n" }.count == 1)
  }

  @Test func oversizedRequestIsRefused() throws {
    let huge = request(image: "a.example.com/x", extra: ",\"pad\":\"" + String(repeating: "x", count: 1 << 20) + "\"")
    let result = try Pullwarden.run(["provide", "--config", config], stdin: huge)
    #expect(result.status == 1)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr == "pullwarden: request is larger than 1 MiB (stdin)\n")
  }

  @Test func badConfigExitsTwo() throws {
    let bad = try scratch.write("bad.yaml", "sources: [{name: n, type: nope, matchImages: [a.io]}]\n")
    let result = try Pullwarden.run(["provide", "--config", bad], stdin: request(image: "a.io/x"))
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("unknown source type \"nope\""))
    #expect(result.stderr.contains(bad + ":1:"))
  }

  @Test func failingSourceExitsThreeWithoutLeakingCredentials() throws {
    try scratch.write("docker.json", #"{"auths":{"registry.example.com":{"auth":"c3VwZXJzZWNyZXQ="}},"#)
    let result = try Pullwarden.run(["provide", "--config", config], stdin: request(image: "registry.example.com/x"))
    #expect(result.status == 3)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("invalid JSON"))
    #expect(!result.stderr.contains("c3VwZXJzZWNyZXQ="))
  }

  @Test func usageErrorsGoThroughArgumentParser() throws {
    let result = try Pullwarden.run(["provide"], stdin: "")
    #expect(result.status == 64)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("--config"))
  }

  @Test func configCheckValidatesWithoutARequest() throws {
    let good = try Pullwarden.run(["config", "check", "--config", config])
    #expect(good.status == 0)
    #expect(good.stdout.contains("source node: type dockerConfig"))
    let bad = try scratch.write("bad.yaml", "sources: []\n")
    let result = try Pullwarden.run(["config", "check", "--config", bad])
    #expect(result.status == 2)
    #expect(result.stdout.contains("\"sources\" is empty"))
  }
}

/// `--version` (also after `verify`) and `pullwarden version [-o json]` name the version, the commit
/// and its date; the release build stamps the commit (scripts/build-release).
@Suite struct VersionEndToEndTests {
  @Test func versionSaysVersionCommitAndDateEverywhere() throws {
    let plain = try Pullwarden.run(["--version"])
    #expect(plain.status == 0)
    #expect(plain.stdout.hasPrefix("pullwarden 0.1.0 (commit "), "\(plain.stdout)")
    #expect(try Pullwarden.run(["version"]).stdout == plain.stdout)
    let verify = try Pullwarden.run(["verify", "--version"])
    #expect(verify.status == 0 && verify.stdout == plain.stdout, "\(verify.stdout)\(verify.stderr)")

    let json = try Pullwarden.run(["version", "-o", "json"])
    #expect(json.status == 0)
    let object = try jsonObject(json.stdout)
    #expect(object["version"] as? String == "0.1.0")
    let commit = try #require(object["commit"] as? String)
    #expect(object["buildDate"] is String)
    if ProcessInfo.processInfo.environment["PULLWARDEN_RELEASE"] == "1" {
      #expect(commit != "unknown", "the release build stamps its commit")
    }
    let yaml = try Pullwarden.run(["version", "-o", "yaml"])
    #expect(yaml.status == 0 && yaml.stdout.hasPrefix("version: \"0.1.0\"\ncommit: "), "\(yaml.stdout)")
    #expect(try Pullwarden.run(["version", "-o", "xml"]).status == 64)
  }
}
