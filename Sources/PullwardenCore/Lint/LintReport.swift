/// What a lint run found, and its three formats: text (one line per finding), JSON and SARIF 2.1.0.
public struct LintReport: Sendable {
  /// A container the rules were applied to, with the sources that would serve its image.
  public struct CheckedContainer: Sendable {
    public var container: ManifestContainer
    public var image: ImageReference
    /// Names of the config's sources whose matchImages match the image; nil without `--config`.
    public var servedBy: [String]?
  }

  public var configPath: String?
  /// Every finding, suppressed ones included (`suppressed` says which).
  public var findings: [LintFinding] = []
  public var containers: [CheckedContainer] = []
  /// Unreadable files and documents, each one line with file:line where known.
  public var errors: [PullwardenError] = []
  /// Whole lines (`warning: …`) for stderr.
  public var warnings: [String] = []
  public var files = 0
  public var objects = 0

  public var reported: [LintFinding] { findings.filter { !$0.suppressed } }
  public var suppressed: [LintFinding] { findings.filter(\.suppressed) }

  /// 2 when some input could not be read, else 1 with findings, else 0.
  public var exitCode: Int32 {
    if !errors.isEmpty { return 2 }
    return reported.isEmpty ? 0 : 1
  }

  // MARK: Text

  /// `file:line:col: rule: message (kind ns/name, path)` per finding, notes naming the serving
  /// sources (with `--config`), then one summary line.
  public func text() -> String {
    var lines: [String] = []
    for finding in reported {
      lines.append(
        "\(place(finding.container.file, finding.line, finding.column)): \(finding.rule.rawValue): \(finding.message) (\(context(finding.container)))")
    }
    if let configPath {
      for checked in containers {
        guard let served = checked.servedBy, !served.isEmpty else { continue }
        let mark = checked.container.imageMark
        lines.append(
          "\(place(checked.container.file, mark?.line, mark?.column)): note: image \(quoted: checked.container.image) is served by \(served.map { Escaping.quoted($0) }.joined(separator: ", ")) in \(configPath) (\(context(checked.container)))"
        )
      }
    }
    lines.append(summary())
    return lines.map(Escaping.line).joined(separator: "\n") + "\n"
  }

  /// `2 findings (always-on-digest 1, latest-tag-without-policy 1), 1 suppressed (…); 5 containers in 3 objects, 2 files; 1 error`.
  public func summary() -> String {
    func counted(_ findings: [LintFinding]) -> String {
      LintRule.allCases.compactMap { rule in
        let count = findings.filter { $0.rule == rule }.count
        return count == 0 ? nil : "\(rule.rawValue) \(count)"
      }.joined(separator: ", ")
    }
    let reported = self.reported, suppressed = self.suppressed
    var text = reported.isEmpty ? "no findings" : "\(plural(reported.count, "finding")) (\(counted(reported)))"
    if !suppressed.isEmpty { text += ", \(suppressed.count) suppressed (\(counted(suppressed)))" }
    text += "; \(plural(containers.count, "container")) in \(plural(objects, "object")), \(plural(files, "file"))"
    if !errors.isEmpty { text += "; \(plural(errors.count, "error")) (on stderr)" }
    return text
  }

  private func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

  private func place(_ file: String, _ line: Int?, _ column: Int?) -> String {
    guard let line else { return file }
    return "\(file):\(line)" + (column.map { ":\($0)" } ?? "")
  }

  private func context(_ container: ManifestContainer) -> String {
    "\(container.objectDescription), \(container.path)"
  }

  // MARK: JSON

  /// `{"findings", "suppressed", "containers", "errors", "summary", "config"}`; the field names are
  /// documented in docs/lint.md and stay stable.
  public func json() -> JSONValue {
    var byRule = JSONObject(), suppressedByRule = JSONObject()
    for rule in LintRule.allCases {
      byRule[rule.rawValue] = .integer(Int64(reported.filter { $0.rule == rule }.count))
      suppressedByRule[rule.rawValue] = .integer(Int64(suppressed.filter { $0.rule == rule }.count))
    }
    let summary: JSONObject = [
      "files": .integer(Int64(files)), "objects": .integer(Int64(objects)), "containers": .integer(Int64(containers.count)),
      "findings": .integer(Int64(reported.count)), "suppressed": .integer(Int64(suppressed.count)),
      "errors": .integer(Int64(errors.count)), "findingsByRule": .object(byRule), "suppressedByRule": .object(suppressedByRule),
      "exitCode": .integer(Int64(exitCode)),
    ]
    return .object([
      "findings": .array(reported.map(findingJSON)),
      "suppressed": .array(suppressed.map(findingJSON)),
      "containers": .array(containers.map(containerJSON)),
      "errors": .array(errors.map { .object(["message": .string($0.what), "location": .string($0.location ?? "")]) }),
      "summary": .object(summary),
      "config": configPath.map(JSONValue.string) ?? .null,
    ])
  }

  private func containerFields(_ container: ManifestContainer, line: Int?, column: Int?) -> JSONObject {
    func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
    func optional(_ number: Int?) -> JSONValue { number.map { .integer(Int64($0)) } ?? .null }
    return [
      "file": .string(container.file), "line": optional(line), "column": optional(column),
      "kind": .string(container.objectKind), "namespace": optional(container.namespace), "name": optional(container.name),
      "container": optional(container.containerName), "path": .string(container.path.description),
      "image": .string(container.image), "imagePullPolicy": optional(container.imagePullPolicy),
    ]
  }

  private func findingJSON(_ finding: LintFinding) -> JSONValue {
    var object: JSONObject = ["rule": .string(finding.rule.rawValue), "message": .string(finding.message)]
    for member in containerFields(finding.container, line: finding.line, column: finding.column).members {
      object[member.key] = member.value
    }
    return .object(object)
  }

  private func containerJSON(_ checked: CheckedContainer) -> JSONValue {
    let mark = checked.container.imageMark
    var object = containerFields(checked.container, line: mark?.line, column: mark?.column)
    let effective = checked.container.imagePullPolicy ?? PullPolicy.kubernetesDefault(for: checked.image).rawValue
    object["effectivePullPolicy"] = .string(effective)
    object["pullPolicyDefaulted"] = .bool(checked.container.imagePullPolicy == nil)
    object["servedBy"] = checked.servedBy.map { .array($0.map(JSONValue.string)) } ?? .null
    return .object(object)
  }

  // MARK: SARIF

  /// SARIF 2.1.0 for code-scanning tools: one run, the rules in `tool.driver.rules`, one result per
  /// finding (suppressed ones marked `inSource`), unreadable input as tool notifications.
  public func sarif(toolVersion: String) -> JSONValue {
    let rules = LintRule.allCases.map { rule -> JSONValue in
      .object([
        "id": .string(rule.rawValue), "name": .string(rule.rawValue),
        "shortDescription": .object(["text": .string(rule.summary)]),
        "fullDescription": .object(["text": .string(rule.summary)]),
        "helpUri": .string(rule.helpURI),
        "defaultConfiguration": .object(["level": .string("warning")]),
      ])
    }
    let results = findings.map { finding -> JSONValue in
      var region: JSONObject = [:]
      if let line = finding.line { region["startLine"] = .integer(Int64(line)) }
      if let column = finding.column { region["startColumn"] = .integer(Int64(column)) }
      var physical: JSONObject = ["artifactLocation": .object(["uri": .string(Self.uriReference(finding.container.file))])]
      if !region.isEmpty { physical["region"] = .object(region) }
      var result: JSONObject = [
        "ruleId": .string(finding.rule.rawValue),
        "ruleIndex": .integer(Int64(LintRule.allCases.firstIndex(of: finding.rule)!)),
        "level": .string("warning"),
        "message": .object(["text": .string(finding.message)]),
        "locations": .array([
          .object([
            "physicalLocation": .object(physical),
            "logicalLocations": .array([
              .object([
                "fullyQualifiedName": .string("\(finding.container.objectDescription)/\(finding.container.path)"),
                "kind": .string("object"),
              ])
            ]),
          ])
        ]),
      ]
      if finding.suppressed {
        result["suppressions"] = .array([
          .object(["kind": .string("inSource"), "justification": .string("\(ManifestReader.ignoreAnnotation) annotation")])
        ])
      }
      return .object(result)
    }
    let notifications = errors.map { error -> JSONValue in
      .object(["level": .string("error"), "message": .object(["text": .string(error.description)])])
    }
    let run: JSONObject = [
      "tool": .object([
        "driver": .object([
          "name": .string("pullwarden"), "version": .string(toolVersion), "informationUri": .string("docs/lint.md"),
          "rules": .array(rules),
        ])
      ]),
      "invocations": .array([
        .object(["executionSuccessful": .bool(errors.isEmpty), "toolExecutionNotifications": .array(notifications)])
      ]),
      "results": .array(results),
    ]
    return .object([
      "version": .string("2.1.0"),
      "$schema": .string("https://json.schemastore.org/sarif-2.1.0.json"),
      "runs": .array([.object(run)]),
    ])
  }

  /// A file path as a relative (or absolute) URI reference: RFC 3986 unreserved characters and `/`
  /// kept, everything else percent-encoded byte by byte.
  static func uriReference(_ path: String) -> String {
    FormEncoding.escape(path, false, keepingSlashes: true)
  }
}
