import Foundation

/// Compares the files a run left in a case folder with the case's `expected-files/` tree (see
/// `FixtureCase`).
enum ExpectedFiles {
  static let folder = "expected-files"
  static let timestampPlaceholder = "<TIMESTAMP>"
  static let emptyMarker = ".expected-empty"
  /// In an expected directory: the directory must exist, but what it holds is not compared (caches
  /// whose file names depend on the case's temporary path).
  static let anyMarker = ".expected-any"

  static func compare(in workspace: URL) -> [String] {
    let expectedRoot = workspace.appendingPathComponent(folder)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: expectedRoot.path, isDirectory: &isDirectory), isDirectory.boolValue else { return [] }
    return compareDirectory(relative: "", expectedRoot: expectedRoot, workspace: workspace, top: true)
  }

  private static func compareDirectory(relative: String, expectedRoot: URL, workspace: URL, top: Bool) -> [String] {
    let expectedDirectory = relative.isEmpty ? expectedRoot : expectedRoot.appendingPathComponent(relative)
    let actualDirectory = relative.isEmpty ? workspace : workspace.appendingPathComponent(relative)
    let expectedNames = ((try? FileManager.default.contentsOfDirectory(atPath: expectedDirectory.path)) ?? [])
      .filter { $0 != emptyMarker }.sorted()
    var problems: [String] = []
    var missing: Set<String> = []
    if !top && FileManager.default.fileExists(atPath: expectedDirectory.appendingPathComponent(anyMarker).path) {
      var isDirectory: ObjCBool = false
      let exists = FileManager.default.fileExists(atPath: actualDirectory.path, isDirectory: &isDirectory)
      return exists && isDirectory.boolValue ? [] : ["directory \(relative) is missing"]
    }
    if !top {
      guard let actualNames = try? FileManager.default.contentsOfDirectory(atPath: actualDirectory.path) else {
        return ["directory \(relative) is missing"]
      }
      let unexpected = Set(actualNames).subtracting(expectedNames).sorted()
      missing = Set(expectedNames).subtracting(actualNames)
      if !unexpected.isEmpty { problems.append("directory \(relative) has unexpected entries: \(unexpected.joined(separator: ", "))") }
      if !missing.isEmpty { problems.append("directory \(relative) lacks: \(missing.sorted().joined(separator: ", "))") }
    }
    for name in expectedNames where !missing.contains(name) {
      let path = relative.isEmpty ? name : relative + "/" + name
      var isDirectory: ObjCBool = false
      FileManager.default.fileExists(atPath: expectedRoot.appendingPathComponent(path).path, isDirectory: &isDirectory)
      if isDirectory.boolValue {
        problems += compareDirectory(relative: path, expectedRoot: expectedRoot, workspace: workspace, top: false)
        continue
      }
      guard let expected = try? String(contentsOf: expectedRoot.appendingPathComponent(path), encoding: .utf8) else {
        problems.append("expected-files/\(path) is not UTF-8 text")
        continue
      }
      guard let actual = try? String(contentsOf: workspace.appendingPathComponent(path), encoding: .utf8) else {
        problems.append("file \(path) is missing")
        continue
      }
      if !matches(actual, expected) {
        problems.append("file \(path) differs from expected-files/\(path): it is \(actual)")
      }
    }
    return problems
  }

  /// Equality where each `<TIMESTAMP>` in `expected` matches one `YYYY-MM-DDTHH:MM:SSZ`.
  static func matches(_ actual: String, _ expected: String) -> Bool {
    let pieces = expected.components(separatedBy: timestampPlaceholder)
    var rest = Substring(actual)
    for (index, piece) in pieces.enumerated() {
      guard rest.hasPrefix(piece) else { return false }
      rest = rest.dropFirst(piece.count)
      if index == pieces.count - 1 { break }
      let candidate = rest.prefix(20)
      guard candidate.count == 20, isTimestamp(candidate) else { return false }
      rest = rest.dropFirst(20)
    }
    return rest.isEmpty
  }

  private static func isTimestamp(_ text: Substring) -> Bool {
    let shape = Array("dddd-dd-ddTdd:dd:ddZ")
    return zip(text, shape).allSatisfy { character, expected in
      expected == "d" ? character.isASCII && character.isNumber : character == expected
    }
  }
}
