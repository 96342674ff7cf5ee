import Testing

@testable import PullwardenCore

/// The kubelet's DockerConfigEntry decoding rules.
@Suite struct DockerConfigTests {
  private func parse(_ text: String, format: DockerConfig.Format? = nil) throws -> DockerConfig {
    let document = Document(name: "config.json", kind: .source, root: try JSON.parse(text.bytes, document: "config.json", kind: .source))
    return try DockerConfig.parse(document, format: format)
  }

  @Test func authFieldReplacesUsernameAndPassword() throws {
    let config = try parse(#"{"auths":{"r.io":{"username":"ignored","password":"ignored","email":"e@x","auth":"dXNlcjpwYXNzd29yZA=="}}}"#)
    #expect(config.entries.first?.credential == RegistryCredential(username: "user", password: "password", email: "e@x"))
  }

  @Test func unpaddedAuthAndColonInPassword() throws {
    // base64("u:p:q") without padding; everything after the first colon is the password.
    let config = try parse(#"{"auths":{"r.io":{"auth":"dTpwOnE"}}}"#)
    #expect(config.entries.first?.credential == RegistryCredential(username: "u", password: "p:q"))
  }

  @Test func fieldNamesAreCaseInsensitiveLikeGo() throws {
    let config = try parse(#"{"auths":{"r.io":{"Username":"u","PASSWORD":"p"}}}"#)
    #expect(config.entries.first?.credential == RegistryCredential(username: "u", password: "p"))
  }

  @Test func legacyDockercfgIsDetected() throws {
    let config = try parse(#"{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNzd29yZA==","email":"a@b"}}"#)
    #expect(config.entries.count == 1)
    #expect(config.entries[0].key?.text == "docker.io")
  }

  @Test func entriesKeepDocumentOrder() throws {
    let config = try parse(#"{"auths":{"z.io":{"username":"u"},"a.io":{"password":"p"},"m.io":{"auth":"dTpw"}}}"#)
    #expect(config.entries.map(\.rawKey) == ["z.io", "a.io", "m.io"])
  }

  /// Identity tokens and credsStore/credHelpers leftovers are not logins: never handed out as
  /// {"username":"","password":""}.
  @Test func entriesWithoutUsernameOrPasswordAreSkipped() throws {
    let config = try parse(
      #"{"auths":{"token.io":{"identitytoken":"abc"},"empty.io":{},"colon.io":{"auth":"Og=="},"ok.io":{"username":"u","password":"p"}},"credsStore":"desktop"}"#)
    #expect(config.entries.map(\.rawKey) == ["ok.io"])
    #expect(config.skipped.map(\.rawKey) == ["token.io", "empty.io", "colon.io"])
    #expect(config.skipped.allSatisfy { $0.reason.contains("neither username nor password") })
  }

  @Test func sizesAreBoundedAndTheLimitIsNamed() {
    let many = (0...TenantLimits.entriesPerDockerConfig).map { "\"r\($0).io\":{\"username\":\"u\"}" }.joined(separator: ",")
    expectError(.source, containing: ["1001 registry entries", "limit of 1000", "entriesPerDockerConfig"]) {
      _ = try parse("{\"auths\":{\(many)}}")
    }
    let longKey = String(repeating: "k", count: TenantLimits.registryKeyLength + 1)
    expectError(.source, containing: ["1025 bytes", "registryKeyLength"]) {
      _ = try parse("{\"auths\":{\"\(longKey)\":{\"username\":\"u\"}}}")
    }
    let longPassword = String(repeating: "p", count: TenantLimits.credentialValueLength + 1)
    do {
      _ = try parse("{\"auths\":{\"r.io\":{\"username\":\"u\",\"password\":\"\(longPassword)\"}}}")
      Issue.record("expected an error")
    } catch {
      #expect("\(error)".contains("\"password\" is longer than the limit of 64 KiB (credentialValueLength)"))
      #expect(!"\(error)".contains("ppp"))
    }
  }

  @Test func badAuthIsAnErrorThatDoesNotQuoteIt() {
    expectError(.source, containing: ["\"auth\" is not base64", "auths[\"r.io\"].auth"]) {
      _ = try parse(#"{"auths":{"r.io":{"auth":"bm9jb2xvbg=="}}}"#)  // "nocolon"
    }
    do {
      _ = try parse(#"{"auths":{"r.io":{"auth":"%%%secret%%%"}}}"#)
    } catch {
      #expect(!"\(error)".contains("secret"))
    }
  }

  @Test func wrongTypesAreErrors() {
    expectError(.source, containing: ["\"password\" must be a string, found number"]) {
      _ = try parse(#"{"auths":{"r.io":{"password":1}}}"#)
    }
    expectError(.source, containing: ["registry entry must be an object"]) { _ = try parse(#"{"auths":{"r.io":"x"}}"#) }
  }
}

@Suite struct KubernetesSecretTests {
  private func secret(_ yaml: String) throws -> KubernetesSecret {
    let document = try YAMLLoader.document(yaml.bytes, name: "secret.yaml", kind: .source)
    return try KubernetesSecret(try document.rootObject(describedAs: "Secret"))
  }

  @Test func readsKubectlOutput() throws {
    let secret = try secret("""
      apiVersion: v1
      data:
        .dockerconfigjson: eyJhdXRocyI6eyJ0ZXN0LnJlZ2lzdHJ5LmlvIjp7ImF1dGgiOiJkWE5sY2pwd1lYTnpkMjl5WkE9PSJ9fX0=
      kind: Secret
      metadata:
        creationTimestamp: "2024-10-21T12:26:40Z"
        name: pull-secret
        namespace: default
        resourceVersion: "1"
        uid: testsecretuid
      type: kubernetes.io/dockerconfigjson
      """)
    #expect(secret.coordinates == SecretCoordinates(namespace: "default", name: "pull-secret", uid: "testsecretuid"))
    let entries = try #require(try secret.dockerConfig()).entries
    #expect(entries.map(\.rawKey) == ["test.registry.io"])
    #expect(entries[0].credential == RegistryCredential(username: "user", password: "password"))
  }

  @Test func stringDataOverridesData() throws {
    let secret = try secret("""
      kind: Secret
      metadata: {name: s}
      type: kubernetes.io/dockercfg
      data: {.dockercfg: e30=}
      stringData:
        .dockercfg: '{"r.io":{"username":"u","password":"p"}}'
      """)
    #expect(secret.coordinates.namespace == "default")
    #expect(try secret.dockerConfig()?.entries.first?.credential == RegistryCredential(username: "u", password: "p"))
  }

  @Test func otherTypesHaveNoDockerConfig() throws {
    #expect(try secret("kind: Secret\nmetadata: {name: s}\ntype: Opaque\ndata: {a: YQ==}\n").dockerConfig() == nil)
  }

  @Test func badPayloadNamesTheSecretNotTheContent() {
    expectError(.source, containing: [".dockerconfigjson of Secret default/s", "invalid JSON"]) {
      _ = try secret("kind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/dockerconfigjson\nstringData: {.dockerconfigjson: '{\"auths\": hunter2'}\n").dockerConfig()
    }
    expectError(.source, containing: ["not valid base64", "secret.yaml:"]) {
      _ = try secret("kind: Secret\nmetadata: {name: s}\ndata: {a: '!!!'}\n")
    }
  }
}

@Suite struct YAMLTests {
  @Test func typesPlainScalarsByYAML12CoreSchema() throws {
    let document = try YAMLLoader.document(
      "a: true\nb: 'true'\nc: 12\nd: 1.5\ne: ~\nf: text\ng: \"12\"\nh: 0x1F\ni: yes\n".bytes, name: "t.yaml", kind: .config)
    let object = try #require(document.root.objectValue)
    #expect(object["a"] == .bool(true))
    #expect(object["b"] == .string("true"))
    #expect(object["c"] == .integer(12))
    #expect(object["d"] == .real(1.5))
    #expect(object["e"] == .null)
    #expect(object["f"] == .string("text"))
    #expect(object["g"] == .string("12"))
    #expect(object["h"] == .integer(31))
    #expect(object["i"] == .string("yes"))
  }

  @Test func recordsPositionsForErrors() throws {
    let document = try YAMLLoader.document("top:\n  list:\n    - x\n    - y\n".bytes, name: "c.yaml", kind: .config)
    let path = JSONPath.root.appending("top").appending("list").appending(1)
    #expect(document.location(of: path) == "c.yaml:4:7, at top.list[1]")
  }

  @Test func duplicateKeysAndSyntaxErrorsNameTheLine() {
    expectError(.config, containing: ["duplicate key", "\"a\"", "c.yaml:"]) {
      _ = try YAMLLoader.document("a: 1\nb: 2\na: 3\n".bytes, name: "c.yaml", kind: .config)
    }
    expectError(.config, containing: ["invalid YAML", "c.yaml:2:"]) {
      _ = try YAMLLoader.document("a: [1\nb: secretvalue: x\n".bytes, name: "c.yaml", kind: .config)
    }
  }

  @Test func aliasBombsAreBounded() {
    var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for level in 1...7 { text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
    expectError(.config, containing: ["more than"]) { _ = try YAMLLoader.document(text.bytes, name: "bomb.yaml", kind: .config) }
  }

  @Test func jsonFilesUseJansson() throws {
    let document = try YAMLLoader.document(" {\"a\": [1]}".bytes, name: "c.json", kind: .config)
    #expect(document.root == .object(["a": .array([.integer(1)])]))
    expectError(.config, containing: ["duplicate object key"]) {
      _ = try YAMLLoader.document("{\"a\":1,\"a\":2}".bytes, name: "c.json", kind: .config)
    }
  }
}
