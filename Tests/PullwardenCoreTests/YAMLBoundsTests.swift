import Testing

@testable import PullwardenCore

/// A Secret file's cost is bounded per file, not per document.
@Suite struct YAMLBoundsTests {
  /// 200 documents that each expand to 10,000 values: every one is under a per-document budget, the
  /// file as a whole is not (this took 29 s and 4 GB when the budget was per document).
  @Test func aliasExpansionIsBoundedPerFile() {
    let ten = { (name: String) in "[" + Array(repeating: "*\(name)", count: 10).joined(separator: ", ") + "]" }
    let document = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b \(ten("a"))\nc: &c \(ten("b"))\nd: \(ten("c"))\n"
    let file = Array(repeating: "---\n" + document, count: 200).joined()
    #expect((try? YAMLLoader.documents(Array(document.utf8), name: "one.yaml", kind: .source))?.count == 1)
    expectError(.source, containing: ["file expands to more than 1000000 values", "many.yaml"]) {
      _ = try YAMLLoader.documents(Array(file.utf8), name: "many.yaml", kind: .source)
    }
  }
}
