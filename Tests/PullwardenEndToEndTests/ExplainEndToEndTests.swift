import FixtureKit
import Foundation
import Testing

/// `pullwarden explain` through the real binary: exit codes, side-effect freedom (recordsDir is left
/// byte for byte as it was), requests from files and stdin, and `--live` against the local HTTPS
/// token service, never printing a secret.
@Suite struct ExplainEndToEndTests {
  let scratch: Scratch

  init() throws {
    scratch = try Scratch()
  }

  private func dockerConfig(records: String = "records") throws -> String {
    try scratch.write("node.json", #"{"auths":{"registry.example.com":{"username":"node","password":"node-secret-password"}}}"#)
    return try scratch.write(
      "config.yaml",
      """
      recordsDir: \(records)
      sources:
        - {name: node, type: dockerConfig, matchImages: ["registry.example.com"], path: node.json}
      """)
  }

  /// Every file and directory under `path` with its bytes, mode and modification time.
  private func snapshot(_ path: String) throws -> [String: String] {
    var found: [String: String] = [:]
    guard let walker = FileManager.default.enumerator(atPath: path) else { return found }
    while let name = walker.nextObject() as? String {
      let full = path + "/" + name
      let attributes = try FileManager.default.attributesOfItem(atPath: full)
      let contents = (try? Data(contentsOf: URL(fileURLWithPath: full))).map { $0.base64EncodedString() } ?? "dir"
      found[name] = "\(attributes[.posixPermissions] ?? "") \(attributes[.modificationDate] ?? "") \(contents)"
    }
    return found
  }

  @Test func aHitExitsZeroAndLeavesRecordsDirUntouched() throws {
    let config = try dockerConfig()
    // provide first, so there is a record, an index and lock files explain must not touch.
    let provided = try Pullwarden.run(["provide", "--config", config], stdin: request(image: "registry.example.com/app"))
    #expect(provided.status == 0)
    let records = scratch.path + "/records"
    let before = try snapshot(records)
    #expect(!before.isEmpty)

    for arguments in [
      ["explain", "registry.example.com/app", "--config", config],
      ["explain", "registry.example.com/app:v2", "--config", config, "-o", "json"],
      ["explain", "registry.example.com/other", "--config", config, "--output", "json"],
    ] {
      let result = try Pullwarden.run(arguments)
      #expect(result.status == 0, "\(arguments): \(result.stderr)")
      #expect(result.stderr.isEmpty)
      #expect(!result.stdout.contains("node-secret-password"))
    }
    #expect(try snapshot(records) == before, "explain changed recordsDir")

    let text = try Pullwarden.run(["explain", "registry.example.com/app", "--config", config])
    #expect(text.stdout.contains("(exists: merged into)"), "\(text.stdout)")
    let json = try jsonObject(try Pullwarden.run(["explain", "registry.example.com/app", "--config", config, "-o", "json"]).stdout)
    let record = try #require(json["record"] as? [String: Any])
    #expect(record["exists"] as? Bool == true)
    #expect(record["nodePodsAccessible"] as? Bool == true)
    #expect(json["result"] as? String == "credentials")
  }

  @Test func aFreshRecordsDirIsNotCreated() throws {
    let config = try dockerConfig(records: "fresh-records")
    let result = try Pullwarden.run(["explain", "registry.example.com/app", "--config", config])
    #expect(result.status == 0)
    #expect(!FileManager.default.fileExists(atPath: scratch.path + "/fresh-records"))
    #expect(result.stdout.contains("(new: a pull intent is written first)"))
  }

  @Test func aMissExitsOneAndPrintsProvidesWarning() throws {
    let config = try dockerConfig()
    let result = try Pullwarden.run(["explain", "registry.example.org/app", "--config", config])
    #expect(result.status == 1)
    #expect(result.stdout.contains("pullwarden: warning: no credentials for registry.example.org/app"))
    // provide writes the same line for the same request.
    let provided = try Pullwarden.run(["provide", "--config", config], stdin: request(image: "registry.example.org/app"))
    let line = try #require(provided.stderr.split(separator: "\n").first)
    #expect(result.stdout.contains(line), "provide: \(line)\nexplain: \(result.stdout)")
  }

  @Test func readsAWholeRequestFromStdinOrAFile() throws {
    let config = try dockerConfig()
    let body = request(image: "registry.example.com/app", extra: #","serviceAccountAnnotations":{"pullwarden.dev/role":"puller"}"#)
    let fromStdin = try Pullwarden.run(["explain", "--config", config, "--request", "-", "-o", "json"], stdin: body)
    #expect(fromStdin.status == 0, "\(fromStdin.stderr)")
    let json = try jsonObject(fromStdin.stdout)
    #expect(json["annotations"] as? [String: String] == ["pullwarden.dev/role": "puller"])
    let file = try scratch.write("request.json", body)
    let overridden = try Pullwarden.run(["explain", "registry.example.org/app", "--config", config, "--request", file])
    #expect(overridden.status == 1)
    #expect(overridden.stdout.hasPrefix("image             registry.example.org/app\n"), "\(overridden.stdout)")
  }

  @Test func usageAndConfigErrorsHaveTheirOwnExitCodes() throws {
    let config = try dockerConfig()
    for (arguments, stdin) in [
      (["explain", "--config", config], ""),
      (["explain", "registry.example.com/app", "--config", config, "-o", "xml"], ""),
      (["explain", "registry.example.com/app", "--config", config, "--service-account", "not a name"], ""),
      (["explain", "registry.example.com/app", "--config", config, "--service-account", "ns/sa", "--live"], ""),
      (["explain", "registry.example.com/app", "--config", config, "--annotation", "no-equals"], ""),
      (["explain", "registry.example.com/App", "--config", config], ""),
    ] {
      let result = try Pullwarden.run(arguments, stdin: stdin)
      #expect(result.status == 64, "\(arguments): \(result.status) \(result.stderr)")
      #expect(result.stdout.isEmpty)
    }
    // An invalid --request file is an invalid input file, like an invalid config.
    let request = try Pullwarden.run(["explain", "--config", config, "--request", "-"], stdin: "{not json")
    #expect(request.status == 2, "\(request.stderr)")
    #expect(request.stdout.isEmpty)
    let broken = try scratch.write("broken.yaml", "sources: [{name: x, type: nope}]\n")
    let result = try Pullwarden.run(["explain", "registry.example.com/app", "--config", broken])
    #expect(result.status == 2)
    #expect(result.stderr.hasPrefix("pullwarden: "))
  }

  // MARK: --live

  @Test func liveMakesTheCallAndReportsStatusWithoutSecrets() throws {
    let server = try #require(SharedTokenServer.server, "token test server: \(SharedTokenServer.problem ?? "")")
    let scenario = UUID().uuidString.lowercased().prefix(12)
    let config = try scratch.write(
      "config.yaml",
      """
      recordsDir: records
      sources:
        - name: exchange
          type: tokenExchange
          matchImages: ["registry.example.com"]
          endpoint: \(server.url)/s/id=\(scenario)/token
          audience: registry.example.com
          username: oauth2
          caFile: \(server.caFile)
      """)
    let token = makeJWT(expiresIn: 3600)
    let body = request(image: "registry.example.com/team/app", extra: ",\"serviceAccountToken\":\"\(token)\"")

    // Without --live nothing reaches the server.
    let dry = try Pullwarden.run(["explain", "--config", config, "--request", "-"], stdin: body)
    #expect(dry.status == 0, "\(dry.stderr)")
    #expect(dry.stdout.contains("would call: POST \(server.url)/s/id=\(scenario)/token (token exchange)"), "\(dry.stdout)")
    #expect(server.requests(scenario: String(scenario)).isEmpty)

    let live = try Pullwarden.run(["explain", "--config", config, "--request", "-", "--live"], stdin: body)
    #expect(live.status == 0, "\(live.stderr)")
    #expect(live.stdout.contains("called: POST \(server.url)/s/id=\(scenario)/token → HTTP 200 in "), "\(live.stdout)")
    #expect(server.requests(scenario: String(scenario)).count == 1)
    let json = try jsonObject(
      try Pullwarden.run(["explain", "--config", config, "--request", "-", "--live", "-o", "json"], stdin: body).stdout)
    let keys = try #require(json["keys"] as? [[String: Any]])
    #expect(keys.first?["credentialHash"] as? String != nil)
    #expect(keys.first?["unresolved"] as? Bool == false)
    for output in [dry.stdout, live.stdout] {
      for part in [token] + token.split(separator: ".").map(String.init) where part.count >= 8 {
        #expect(!output.contains(part), "explain prints the token")
      }
      #expect(!output.contains("exchanged:"), "explain prints the exchanged password")
    }
    #expect(!FileManager.default.fileExists(atPath: scratch.path + "/records"))
  }
}
