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

  /// Equality where each `<TIMESTAMP>` in `expected` matches one `YYYY-MM-DDTHH:MM:SSZ` (or with
  /// milliseconds, `…:SS.mmmZ`) and each `<NUMBER>` one run of digits (a duration in a log line).
  static func matches(_ actual: String, _ expected: String) -> Bool {
    var rest = Substring(actual)
    var pattern = Substring(expected)
    while true {
      let timestamp = pattern.range(of: timestampPlaceholder)
      let number = pattern.range(of: numberPlaceholder)
      guard let next = [timestamp, number].compactMap({ $0 }).min(by: { $0.lowerBound < $1.lowerBound }) else {
        return rest == pattern
      }
      let literal = pattern[..<next.lowerBound]
      guard rest.hasPrefix(literal) else { return false }
      rest = rest.dropFirst(literal.count)
      if next == timestamp {
        if rest.count >= 24, isTimestamp(rest.prefix(24), shape: "dddd-dd-ddTdd:dd:dd.dddZ") {
          rest = rest.dropFirst(24)
        } else if rest.count >= 20, isTimestamp(rest.prefix(20), shape: "dddd-dd-ddTdd:dd:ddZ") {
          rest = rest.dropFirst(20)
        } else {
          return false
        }
      } else {
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return false }
        rest = rest.dropFirst(digits.count)
      }
      pattern = pattern[next.upperBound...]
    }
  }

  static let numberPlaceholder = "<NUMBER>"

  private static func isTimestamp(_ text: Substring, shape: String) -> Bool {
    zip(text, Array(shape)).allSatisfy { character, expected in
      expected == "d" ? character.isASCII && character.isNumber : character == expected
    }
  }
}
