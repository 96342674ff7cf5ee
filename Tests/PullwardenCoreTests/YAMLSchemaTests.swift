import Testing

@testable import PullwardenCore

/// The scalars where YAML 1.1 and 1.2 disagree, duplicate keys and merge keys, under both schemas
/// (the decisions are written down in YAMLSchema and README, Configuration).
@Suite struct YAMLSchemaTests {
  private func root(_ yaml: String, _ schema: YAMLSchema) throws -> JSONObject {
    let document = try YAMLLoader.document(yaml.bytes, name: "t.yaml", kind: .source, schema: schema)
    return try #require(document.root.objectValue)
  }

  private let disputed = """
    a: yes
    b: on
    c: y
    d: no
    e: Off
    f: 0755
    g: 0o755
    h: 0x1F
    i: 0b101
    j: 1_000
    k: 1e3
    l: ~
    m: null
    date: 2024-01-02
    o: 'yes'
    p: !!str 0755
    q: 08
    r: ""
    s: .5
    t: -0x10
    """

  /// Our own config files: the YAML 1.2 core schema.
  @Test func configsUseTheYAML12CoreSchema() throws {
    let object = try root(disputed, .core)
    #expect(object["a"] == .string("yes"))
    #expect(object["b"] == .string("on"))
    #expect(object["c"] == .string("y"))
    #expect(object["d"] == .string("no"))
    #expect(object["e"] == .string("Off"))
    #expect(object["f"] == .integer(755))
    #expect(object["g"] == .integer(0o755))
    #expect(object["h"] == .integer(31))
    #expect(object["i"] == .string("0b101"))
    #expect(object["j"] == .string("1_000"))
    #expect(object["k"] == .real(1000))
    #expect(object["l"] == .null)
    #expect(object["m"] == .null)
    #expect(object["date"] == .string("2024-01-02"))
    #expect(object["o"] == .string("yes"))
    #expect(object["p"] == .string("0755"))
    #expect(object["q"] == .integer(8))
    #expect(object["r"] == .string(""))
    #expect(object["s"] == .real(0.5))
    #expect(object["t"] == .string("-0x10"))
  }

  /// Secrets and kubeconfig files: as sigs.k8s.io/yaml (go-yaml v2) reads them for kubectl.
  @Test func kubernetesObjectsUseGoYAMLv2Rules() throws {
    let object = try root(disputed, .kubernetes)
    #expect(object["a"] == .bool(true))
    #expect(object["b"] == .bool(true))
    #expect(object["c"] == .bool(true))
    #expect(object["d"] == .bool(false))
    #expect(object["e"] == .bool(false))
    #expect(object["f"] == .integer(0o755))
    #expect(object["g"] == .integer(0o755))
    #expect(object["h"] == .integer(31))
    #expect(object["i"] == .integer(5))
    #expect(object["j"] == .integer(1000))
    #expect(object["k"] == .real(1000))
    #expect(object["l"] == .null)
    #expect(object["m"] == .null)
    #expect(object["date"] == .string("2024-01-02"))
    #expect(object["o"] == .string("yes"))
    #expect(object["p"] == .string("0755"))
    // Not octal, so ParseInt fails; go-yaml's float pattern then takes it.
    #expect(object["q"] == .real(8))
    #expect(object["r"] == .string(""))
    #expect(object["s"] == .real(0.5))
    #expect(object["t"] == .integer(-16))
  }

  /// sigs.k8s.io/yaml turns go-yaml's typed keys into JSON keys (so even `y:` and `n:` are "true"
  /// and "false" there); the core schema keeps the text.
  @Test func mappingKeysBecomeJSONKeys() throws {
    #expect(try root("y: 1\nn: 2\n", .kubernetes).keys == ["true", "false"])
    #expect(try root("y: 1\nn: 2\n", .core).keys == ["y", "n"])
    let yaml = "on: a\n1: b\n0x10: c\n1.5: d\n1e6: e\n'yes': f\n"
    #expect(try root(yaml, .kubernetes).keys == ["true", "1", "16", "1.5", "1e+06", "yes"])
    #expect(try root(yaml, .core).keys == ["on", "1", "0x10", "1.5", "1e6", "yes"])
    expectError(.source, containing: ["null mapping key", "t.yaml:1:1"]) { _ = try root("~: a\n", .kubernetes) }
  }

  @Test func go32BitFloatKeysFormatAsGoDoes() {
    #expect(GoFloat.format32(1000) == "1000")
    #expect(GoFloat.format32(1e6) == "1e+06")
    #expect(GoFloat.format32(123456) == "123456")
    #expect(GoFloat.format32(0.25) == "0.25")
    #expect(GoFloat.format32(0.0001) == "0.0001")
    #expect(GoFloat.format32(0.00001) == "1e-05")
    #expect(GoFloat.format32(-1.5) == "-1.5")
    #expect(GoFloat.format32(0.1) == "0.1")
    #expect(GoFloat.format32(1.5e20) == "1.5e+20")
  }

  /// Duplicates are errors under both schemas, with the second key's position; under the Kubernetes
  /// rules `on` and `true` are the same key.
  @Test func duplicateKeysAreErrors() {
    for schema in [YAMLSchema.core, .kubernetes] {
      expectError(.source, containing: ["duplicate key \"a\"", "t.yaml:3:1"]) { _ = try root("a: 1\nb: 2\na: 3\n", schema) }
    }
    expectError(.source, containing: ["duplicate key \"true\"", "t.yaml:2:1"]) { _ = try root("on: 1\n\"true\": 2\n", .kubernetes) }
    #expect((try? root("on: 1\n\"true\": 2\n", .core))?.count == 2)
    // A mapping large enough for the key set, duplicate at the end.
    let many = (0..<100).map { "k\($0): \($0)\n" }.joined() + "k7: again\n"
    expectError(.source, containing: ["duplicate key \"k7\"", "t.yaml:101:1"]) { _ = try root(many, .kubernetes) }
  }

  /// go-yaml merges `<<`; its strict mode reports a key both sides have. YAML 1.2 has no merge key.
  @Test func mergeKeysFollowGoYAMLStrictMode() throws {
    let yaml = "base: &base {user: u, email: e}\nentry:\n  <<: *base\n  password: p\n"
    let merged = try #require(try root(yaml, .kubernetes)["entry"]?.objectValue)
    #expect(merged.keys == ["user", "email", "password"])
    let list = try #require(try root("a: &a {u: 1}\nb: &b {v: 2}\nc:\n  <<: [*a, *b]\n", .kubernetes)["c"]?.objectValue)
    #expect(list.keys == ["v", "u"])
    expectError(.source, containing: ["duplicate key \"user\""]) {
      _ = try root("base: &base {user: u}\nentry:\n  <<: *base\n  user: v\n", .kubernetes)
    }
    expectError(.source, containing: ["merge key", "t.yaml:1:1"]) { _ = try root("<<: 1\n", .kubernetes) }
    #expect(try root(yaml, .core)["entry"]?.objectValue?.keys == ["<<", "password"])
  }

  @Test func tagsDecideBeforeTheSchema() throws {
    let object = try root("a: !!int \"12\"\nb: !!float 3\nc: !custom 12\nd: !!bool yes\ne: ! 12\n", .kubernetes)
    #expect(object["a"] == .integer(12))
    #expect(object["b"] == .real(3))
    #expect(object["c"] == .string("12"))
    #expect(object["d"] == .bool(true))
    #expect(object["e"] == .string("12"))
    expectError(.source, containing: ["does not match its tag !!int", "found string", "t.yaml:1:4"]) {
      _ = try root("a: !!int abc\n", .core)
    }
  }

  @Test func aliasesShareAndCanBeKeys() throws {
    let object = try root("k: &k name\nv: &v [1, 2]\n*k : *v\n", .core)
    #expect(object["name"] == .array([.integer(1), .integer(2)]))
    expectError(.source, containing: ["undefined alias", "t.yaml:1:4"]) { _ = try root("a: *nowhere\n", .core) }
    // An anchor is visible only after its node and only in its own document.
    expectError(.source, containing: ["undefined alias"]) { _ = try root("a: &a [*a]\n", .core) }
    expectError(.source, containing: ["undefined alias", "t.yaml:3:4"]) {
      _ = try YAMLLoader.documents("a: &a 1\n---\nb: *a\n".bytes, name: "t.yaml", kind: .source)
    }
  }

  @Test func nestingIsBoundedWithoutRecursion() {
    let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
    expectError(.source, containing: ["nested more than 512 levels deep", "t.yaml:1:"]) {
      _ = try YAMLLoader.documents(("a: " + deep).bytes, name: "t.yaml", kind: .source)
    }
    let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
    #expect((try? YAMLLoader.documents(fine.bytes, name: "t.yaml", kind: .source, schema: .kubernetes))?.count == 1)
  }

  /// libyaml's messages are fixed texts: a broken Secret's data never reaches the error.
  @Test func syntaxErrorsNameThePlaceNotTheText() {
    let cases = [
      "data:\n  password: \"hunter2\n",
      "data: {password: hunter2\nother: [x\n",
      "data:\n  - hunter2\n bad: hunter2\n",
      "data: 'hunter2\u{01}'\n",
    ]
    for yaml in cases {
      do {
        _ = try YAMLLoader.documents(yaml.bytes, name: "s.yaml", kind: .source, schema: .kubernetes)
        Issue.record("no error for \(yaml.debugDescription)")
      } catch {
        let text = "\(error)"
        #expect(text.contains("invalid YAML: "), "\(text)")
        #expect(text.contains("s.yaml"), "\(text)")
        #expect(!text.contains("hunter2"), "\(text)")
        #expect(!text.contains("\n"), "\(text)")
      }
    }
  }

  @Test func scalarsKeepEveryCharacter() throws {
    let object = try root("a: \"x\\0y\"\nb: \"\\u00e9\\x41\"\nc: |\n  line 1\n  line 2\n", .kubernetes)
    #expect(object["a"] == .string("x\u{0}y"))
    #expect(object["b"] == .string("éA"))
    #expect(object["c"] == .string("line 1\nline 2\n"))
  }

  /// Positions for errors found after parsing, in any document of a stream, with either schema.
  @Test func positionsInLaterDocumentsAndConvertedKeys() throws {
    let documents = try YAMLLoader.documents(
      "a: 1\n---\nlist:\n  - x\n  - on: [1, 2]\n".bytes, name: "t.yaml", kind: .source, schema: .kubernetes)
    #expect(documents.count == 2)
    let path = JSONPath.root.appending("list").appending(1).appending("true").appending(1)
    #expect(documents[1].location(of: path) == "t.yaml:5:13, at list[1].true[1]")
    #expect(documents[1].location(of: JSONPath.root.appending("list").appending(1).appending("true")) == "t.yaml:5:5, at list[1].true")
    // A path that goes further than the text: the deepest value found.
    #expect(documents[1].location(of: JSONPath.root.appending("list").appending(0).appending("x")) == "t.yaml:4:5, at list[0].x")
    #expect(documents[0].location(of: .root) == "t.yaml:1:1")
  }

  /// A Secret field kubectl would reject (`namespace: yes` is a boolean there) is an error here too.
  @Test func aSecretWithAYAML11BooleanIsRejectedAsKubectlWould() {
    let yaml = "kind: Secret\nmetadata:\n  name: s\n  namespace: yes\ntype: Opaque\n"
    expectError(.source, containing: ["must be a string", "found boolean", "s.yaml:4:3"]) {
      let document = try YAMLLoader.document(yaml.bytes, name: "s.yaml", kind: .source, schema: .kubernetes)
      _ = try KubernetesSecret(try document.rootObject(describedAs: "Secret"))
    }
  }
}
