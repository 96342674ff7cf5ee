import Testing

@testable import PullwardenCore

/// The reason builder (`SourceVerdict`, `PatternMismatch`) behind `pullwarden explain` and provide's
/// miss line, and the explanation built from a real run of the sources.
@Suite struct ExplanationTests {
  let directory = TemporaryDirectory()
  static let now = Timestamp(secondsSinceEpoch: 1_700_000_000)

  private func config(_ text: String) throws -> PullwardenConfig {
    try PullwardenConfig.load(path: directory.write("config.yaml", "recordsDir: records\n" + text))
  }

  private func explain(
    _ configText: String, image: String, token: String? = nil, annotations: [String: String] = [:], serviceAccount: String? = nil
  ) throws -> Explanation {
    let loaded = try config(configText)
    var extra = ""
    if let token { extra += ",\"serviceAccountToken\":\"\(token)\"" }
    if !annotations.isEmpty {
      extra += ",\"serviceAccountAnnotations\":{" + annotations.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",") + "}"
    }
    let input = try Explanation.request(
      image: nil, requestBytes: requestJSON(image: image, extra: extra).bytes, serviceAccount: serviceAccount, annotations: [],
      config: loaded, now: Self.now)
    return Explanation.explain(config: loaded, request: input.request, syntheticToken: input.syntheticToken, live: false, now: Self.now)
  }

  private func verdict(_ explanation: Explanation, _ name: String) throws -> SourceVerdict {
    try #require(explanation.sources.first { $0.verdict.source == name }).verdict
  }

  // MARK: matchImages parts

  @Test func aHostLabelMismatchNamesTheLabel() throws {
    let mismatch = try #require(try ImagePattern(parsing: "*.example.com").mismatch("registry.other.com/app"))
    #expect(mismatch == .label(index: 1, pattern: "example", image: "other"))
    #expect(mismatch.description == #"host label 2 "example" does not match "other""#)
    #expect(mismatch.part == "label")
  }

  @Test func aLabelCountMismatchSaysAGlobNeverCrossesADot() throws {
    let mismatch = try #require(try ImagePattern(parsing: "*.example.com").mismatch("a.b.example.com/app"))
    #expect(mismatch == .labelCount(pattern: "*.example.com", patternCount: 3, image: "a.b.example.com", imageCount: 4))
    #expect(mismatch.description.contains("a glob never crosses a dot"))
  }

  @Test func aPortMismatchNamesBothPorts() throws {
    let missing = try #require(try ImagePattern(parsing: "registry.local").mismatch("registry.local:5000/app"))
    #expect(missing == .port(pattern: "", image: "5000"))
    #expect(missing.description == "no port in the pattern, port 5000 in the image (ports must be equal)")
    let other = try #require(try ImagePattern(parsing: "registry.local:5000").mismatch("registry.local:8443/app"))
    #expect(other.description == "port 5000 in the pattern, port 8443 in the image (ports must be equal)")
  }

  @Test func aPathPrefixMismatchNamesBothPaths() throws {
    let mismatch = try #require(try ImagePattern(parsing: "registry.example.com/team-a").mismatch("registry.example.com/team-b/app"))
    #expect(mismatch == .pathPrefix(pattern: "/team-a", image: "/team-b/app"))
    #expect(mismatch.description == #"path prefix "/team-a" does not start the image's path "/team-b/app""#)
  }

  @Test func mismatchAgreesWithMatches() throws {
    let patterns = ["*.example.com", "registry.local:5000", "docker.io", "registry.example.com/team", "*.*", "a*c.io"]
    let images = [
      "registry.example.com/app", "a.b.example.com/x", "registry.local:5000/app", "registry.local/app", "docker.io/library/nginx",
      "registry.example.com/teamwork", "registry.example.com/other", "abc.io/x", "abcd.io/x", "x.y/z",
    ]
    for text in patterns {
      let pattern = try ImagePattern(parsing: text)
      for image in images {
        #expect(pattern.matches(image) == (pattern.mismatch(image) == nil), "\(text) vs \(image)")
      }
    }
  }

  // MARK: Source verdicts from a real run

  @Test func aSourceWhosePatternsDoNotMatchSaysWhichPartFailed() throws {
    directory.write("docker.json", #"{"auths":{"registry.example.com":{"username":"node","password":"node-secret-pw"}}}"#)
    let explanation = try explain(
      "sources: [{name: node, type: dockerConfig, matchImages: ['*.example.com', 'registry.local:5000'], path: docker.json}]",
      image: "registry.local/app")
    let node = try verdict(explanation, "node")
    #expect(node.outcome == .notServed)
    #expect(node.mismatches.map(\.mismatch.part) == ["labels", "port"])
    #expect(node.closestMismatch?.pattern == "registry.local:5000")
    #expect(node.reasonCode == "matchImages-port")
    #expect(explanation.result == .miss)
    #expect(explanation.exitCode == 1)
    #expect(explanation.missLine?.contains("closest \"registry.local:5000\": port 5000 in the pattern, no port in the image") == true)
  }

  @Test func aMissingTokenFailsTheRun() throws {
    let explanation = try explain(
      """
      sources: [{name: pass, type: passthrough, matchImages: ['registry.example.com'], username: sa}]
      """, image: "registry.example.com/app")
    let pass = try verdict(explanation, "pass")
    #expect(pass.outcome == .missingToken)
    #expect(pass.summary.contains("no service-account token (withoutToken: error): the run fails"))
    guard case .fails(let exitCode, _) = explanation.result else {
      Issue.record("expected a failure, got \(explanation.result)")
      return
    }
    #expect(exitCode == 3)
  }

  @Test func withoutTokenSkipIsASkipNotAFailure() throws {
    let explanation = try explain(
      """
      sources: [{name: pass, type: passthrough, matchImages: ['registry.example.com'], username: sa, withoutToken: skip}]
      """, image: "registry.example.com/app")
    let pass = try verdict(explanation, "pass")
    #expect(pass.outcome == .skippedWithoutToken)
    #expect(pass.reasonCode == "withoutToken-skip")
    #expect(explanation.result == .miss)
    #expect(explanation.missLine?.contains("skipped: the request has no service-account token (withoutToken: skip)") == true)
  }

  @Test func aMissingRequiredAnnotationFailsTheRun() throws {
    let token = serviceAccountJWT(expires: 1_800_000_000)
    let explanation = try explain(
      """
      sources: [{name: pass, type: passthrough, matchImages: ['registry.example.com'], username: sa, requiredAnnotations: ['pullwarden.dev/role']}]
      """, image: "registry.example.com/app", token: token)
    let pass = try verdict(explanation, "pass")
    #expect(pass.outcome == .missingAnnotation("pullwarden.dev/role"))
    #expect(pass.summary.contains(#"has no annotation "pullwarden.dev/role""#))
    #expect(!explanation.text().contains(token))
  }

  @Test func aSourceWithKeysForOtherPathsListsThemAsLeftOut() throws {
    directory.write("docker.json", #"{"auths":{"registry.example.com/team-b":{"username":"b","password":"team-b-secret"}}}"#)
    let explanation = try explain(
      "sources: [{name: node, type: dockerConfig, matchImages: ['registry.example.com'], path: docker.json}]",
      image: "registry.example.com/team-a/app")
    let report = try #require(explanation.sources.first)
    #expect(report.verdict.outcome == .noMatchingKey)
    #expect(report.leftOut.map(\.key) == ["registry.example.com/team-b"])
    #expect(report.leftOut.first?.mismatch == .pathPrefix(pattern: "/team-b", image: "/team-a/app"))
  }

  // MARK: Keys, hashes and records

  @Test func keysComeInKubeletOrderWithAliasesAndHashesNeverPasswords() throws {
    directory.write("a.json", #"{"auths":{"registry.example.com":{"username":"node-a","password":"password-a-123"},"registry.example.com/team":{"username":"team","password":"password-t-123"}}}"#)
    directory.write("b.json", #"{"auths":{"registry.example.com":{"username":"node-b","password":"password-b-123"}}}"#)
    let explanation = try explain(
      """
      sources:
        - {name: a, type: dockerConfig, matchImages: ['registry.example.com'], path: a.json}
        - {name: b, type: dockerConfig, matchImages: ['registry.example.com'], path: b.json}
      """, image: "registry.example.com/team/app")
    #expect(explanation.keys.map(\.key) == ["registry.example.com/team", "registry.example.com", "registry.example.com#2"])
    #expect(explanation.keys.map(\.position) == [1, 2, 2])
    #expect(explanation.keys.map(\.isAlias) == [false, false, true])
    #expect(explanation.keys[0].credentialHash == CredentialHash.of(RegistryCredential(username: "team", password: "password-t-123")))
    #expect(explanation.result == .credentials(count: 3, unresolved: 0))
    #expect(explanation.record?.nodePodsAccessible == true)
    let text = explanation.text()
    let json = String(decoding: JSON.encode(explanation.json), as: UTF8.self)
    for secret in ["password-a-123", "password-b-123", "password-t-123"] {
      #expect(!text.contains(secret))
      #expect(!json.contains(secret))
    }
  }

  @Test func aTokenExchangeWithoutLiveSaysWhatItWouldCall() throws {
    let explanation = try explain(
      """
      sources: [{name: sts, type: tokenExchange, matchImages: ['registry.example.com'], endpoint: 'https://sts.example.com/token', username: oauth2, tokenAudience: sts.example.com}]
      """, image: "registry.example.com/app", serviceAccount: "team-a/builder/uid-1")
    let report = try #require(explanation.sources.first)
    #expect(report.calls == [.wouldCall(method: "POST", url: "https://sts.example.com/token", purpose: "token exchange")])
    #expect(explanation.token?.synthetic == true)
    #expect(explanation.token?.audiences == ["sts.example.com"])
    #expect(explanation.keys.first?.unresolved == true)
    #expect(explanation.keys.first?.credentialHash == nil)
    #expect(explanation.result == .credentials(count: 1, unresolved: 1))
    #expect(explanation.record?.serviceAccounts == [ServiceAccountCoordinates(namespace: "team-a", name: "builder", uid: "uid-1")])
  }

  @Test func explainWritesNothingUnderRecordsDir() throws {
    directory.write("docker.json", #"{"auths":{"registry.example.com":{"username":"node","password":"node-secret-pw"}}}"#)
    directory.write("secrets/s.yaml", """
      {"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/dockerconfigjson","metadata":{"namespace":"ns","name":"s","uid":"u"},\
      "data":{".dockerconfigjson":"\(Base64.encode(Array(#"{"auths":{"registry.example.com":{"username":"s","password":"s-secret-pw"}}}"#.utf8)))"}}
      """)
    let explanation = try explain(
      """
      sources:
        - {name: files, type: secretFiles, matchImages: ['registry.example.com'], directory: secrets}
        - {name: node, type: dockerConfig, matchImages: ['registry.example.com'], path: docker.json}
      """, image: "registry.example.com/app")
    #expect(explanation.exitCode == 0)
    #expect(explanation.record?.secrets.map(\.name) == ["s"])
    #expect((try? FileIO.fileType(directory.path + "/records")) ?? nil == nil)
  }
}
