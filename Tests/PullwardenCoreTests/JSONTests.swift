import Testing

@testable import PullwardenCore

@Suite struct JSONTests {
  @Test func parsesAllTypesInOrder() throws {
    let value = try JSON.parse(#"{"b":1,"a":[true,false,null,1.5,"x\u0000y"],"c":{}}"#.bytes, document: "t", kind: .request)
    guard case .object(let object) = value else { Issue.record("not an object"); return }
    #expect(object.keys == ["b", "a", "c"])
    #expect(object["a"] == .array([.bool(true), .bool(false), .null, .real(1.5), .string("x\u{0}y")]))
  }

  @Test func rejectsDuplicateKeysNamingTheKey() {
    expectError(.request, containing: ["duplicate object key", "\"image\"", "line 1"]) {
      _ = try JSON.parse(#"{"image":"a","image":"b"}"#.bytes, document: "stdin", kind: .request)
    }
  }

  @Test func rejectsTrailingDataAndInvalidUTF8() {
    expectError(.request, containing: ["invalid JSON"]) { _ = try JSON.parse("{} {}".bytes, document: "stdin", kind: .request) }
    expectError(.request, containing: ["invalid JSON"]) {
      _ = try JSON.parse([0x22, 0xFF, 0x22], document: "stdin", kind: .request)
    }
  }

  /// jansson quotes the token near a syntax error; that token can be a password.
  @Test func syntaxErrorsDoNotQuoteInput() {
    do {
      _ = try JSON.parse(#"{"password": s3cr3t-value}"#.bytes, document: "stdin", kind: .request)
      Issue.record("expected an error")
    } catch {
      #expect(!error.description.contains("s3cr3t"))
      #expect(error.description.contains("line 1"))
    }
  }

  @Test func encodesCompactlyInInsertionOrder() {
    var object = JSONObject()
    object["z"] = .string("é\"\n")
    object["a"] = .integer(-3)
    object["m"] = .array([.null, .bool(true)])
    #expect(String(decoding: JSON.encode(.object(object)), as: UTF8.self) == #"{"z":"é\"\n","a":-3,"m":[null,true]}"#)
  }

  @Test func pathsReadLikeSource() {
    let path = JSONPath.root.appending("sources").appending(0).appending("matchImages").appending(2)
    #expect(path.description == "sources[0].matchImages[2]")
    #expect(JSONPath.root.appending("data").appending(".dockerconfigjson").description == #"data[".dockerconfigjson"]"#)
  }
}
