import Testing

@testable import PullwardenCore

@Suite struct YAMLEmitterTests {
  /// Strings that a careless emitter writes plain and a reader then types as something else.
  static let trickyStrings = [
    "", " ", "  lead", "trail ", "yes", "Yes", "YES", "no", "y", "N", "on", "Off", "true", "False", "null", "Null",
    "~", "0755", "0o17", "0x1F", "0b101", "1_000", "1e3", "1.5", ".5", "-1", "+1", ".inf", "-.inf", ".nan", "1:20",
    "2024-01-02", "2024-01-02T03:04:05Z", "-", "- a", "? a", ": a", "a: b", "a #b", "#c", "*alias", "&anchor",
    "!tag", "|", ">", "%YAML", "@at", "`tick", "'single'", "\"double\"", "[a]", "{a: 1}", "a, b", "<<", "=",
    "line\nbreak", "tab\there", "cr\r", "nul\u{0}byte", "del\u{7F}", "c1\u{85}", "\u{FEFF}bom", "ls\u{2028}ps\u{2029}",
    "back\\slash", "ünïcödé", "emoji 🎉", "docker.io/library/nginx:1.25", "registry:5000/team/app", "a:", "a::b",
    "sha256:abc", "plain text with spaces", "two  spaces", "---", "...", "key:value",
  ]

  @Test(arguments: [YAMLSchema.core, .kubernetes])
  func everyTrickyStringReadsBackAsItself(schema: YAMLSchema) throws {
    for text in Self.trickyStrings {
      let value = JSONValue.object(["key": .string(text), text: .array([.string(text), .object([text: .string(text)])])])
      let yaml = YAMLEmitter.emit(value)
      let read = try YAMLLoader.document(Array(yaml.utf8), name: "emitted", kind: .config, schema: schema).root
      #expect(read == value, "\(Escaping.quoted(text)) was emitted as:\n\(yaml)")
    }
  }

  @Test func plainTextStaysReadable() {
    #expect(YAMLEmitter.emit(.string("docker.io/library/nginx:1.25")) == "docker.io/library/nginx:1.25\n")
    #expect(YAMLEmitter.emit(.string("not updated for 720h")) == "not updated for 720h\n")
    #expect(YAMLEmitter.emit(.string("yes")) == "\"yes\"\n")
    #expect(YAMLEmitter.emit(.string("0755")) == "\"0755\"\n")
  }

  @Test func blockStyleAsKubectlWritesIt() throws {
    let value = JSONValue.object([
      "version": .string("0.1.0"), "count": .integer(2), "ratio": .real(0.5), "ok": .bool(true), "none": .null,
      "items": .array([.object(["name": .string("a"), "tags": .array([.string("x")])]), .array([.integer(1), .integer(2)]), .string("s")]),
      "empty": .object([:]), "nothing": .array([]), "nested": .object(["inner": .object(["deep": .string("on")])]),
    ])
    let expected = """
      version: "0.1.0"
      count: 2
      ratio: 0.5
      ok: true
      none: null
      items:
      - name: a
        tags:
        - x
      - - 1
        - 2
      - s
      empty: {}
      nothing: []
      nested:
        inner:
          deep: "on"

      """
    #expect(YAMLEmitter.emit(value) == expected)
    #expect(try YAMLLoader.document(Array(expected.utf8), name: "e", kind: .config).root == value)
  }

  @Test func numbersAndEmptyDocumentsReadBack() throws {
    for value: JSONValue in [.integer(-7), .real(1e20), .real(-0.25), .real(.infinity), .bool(false), .null, .array([]), .object([:])] {
      let yaml = YAMLEmitter.emit(value)
      #expect(try YAMLLoader.document(Array(yaml.utf8), name: "e", kind: .config).root == value, "\(yaml)")
    }
  }
}
