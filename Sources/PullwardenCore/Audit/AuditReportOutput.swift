/// The audit as text (per-pod tables and a summary), as JSON, and as YAML from the same JSON value.
extension AuditReport {
  /// The field names here are the documented, stable `-o json` shape; `pods` comes last so that the
  /// writers below can stream it.
  public var json: JSONValue {
    var object = header
    object["pods"] = .array(pods.map(\.json))
    return .object(object)
  }

  /// Everything but `pods`.
  var header: JSONObject {
    var summary = JSONObject()
    for policy in VerificationPolicy.allCases {
      let counts = self.summary(policy)
      summary[policy.rawValue] = .object([
        "keepsWorking": .integer(Int64(counts.keepsWorking)),
        "rePullWithCredentials": .integer(Int64(counts.rePullWithCredentials)),
        "wouldFail": .integer(Int64(counts.wouldFail)),
        "notAffected": .integer(Int64(counts.notAffected)),
        "notRecorded": .integer(Int64(counts.notRecorded)),
      ])
    }
    var matchingCounts = JSONObject()
    for (mode, count) in self.matchingCounts { matchingCounts[mode.rawValue] = .integer(Int64(count)) }
    return [
      "kind": .string("PullwardenAudit"),
      "recordsDirectory": .string(recordsDirectory),
      "recordsLayout": .string(recordsLayout),
      "matching": .string(matching.rawValue),
      "matchingCounts": .object(matchingCounts),
      "kubeletVersion": .string(rules.rawValue),
      "allowlist": .array(allowlist.map { .string($0) }),
      "summary": .object(summary),
      "podsOnOtherNodes": .integer(Int64(podsOnOtherNodes)),
      "warnings": .array(warnings.map { .string($0) }),
    ]
  }

  /// Writes the output in `format` ("text", "json" or "yaml") through `write`, a pod at a time in
  /// chunks of about a mebibyte, so 10,000 pods never sit in memory as one value or one string.
  /// Returns false as soon as `write` does.
  public func write(_ format: String, to write: ([UInt8]) -> Bool) -> Bool {
    var buffer: [UInt8] = []
    buffer.reserveCapacity(Self.chunk + 64 << 10)
    func add(_ bytes: some Sequence<UInt8>) -> Bool {
      buffer.append(contentsOf: bytes)
      if buffer.count < Self.chunk { return true }
      defer { buffer.removeAll(keepingCapacity: true) }
      return write(buffer)
    }
    switch format {
    case "json":
      // `{…header…,"pods":[pod,pod]}`: the encoded header always ends with its closing brace.
      guard add(JSON.encode(.object(header)).dropLast()), add(#","pods":["#.utf8) else { return false }
      for (index, pod) in pods.enumerated() {
        if index > 0 && !add(CollectionOfOne(UInt8(ascii: ","))) { return false }
        guard add(JSON.encode(pod.json)) else { return false }
      }
      guard add("]}\n".utf8) else { return false }
    case "yaml":
      guard add(YAMLEmitter.emit(.object(header)).utf8), add((pods.isEmpty ? "pods: []\n" : "pods:\n").utf8) else { return false }
      for pod in pods {
        guard add(YAMLEmitter.emit(.array([pod.json])).utf8) else { return false }
      }
    default:
      guard add(textHeader.utf8) else { return false }
      for pod in pods {
        guard add(Self.text(pod).utf8) else { return false }
      }
      guard add(textSummary.utf8) else { return false }
    }
    return buffer.isEmpty || write(buffer)
  }

  private static let chunk = 1 << 20

  /// Per pod a table of its containers under each policy, then the summary table.
  public func text() -> String {
    textHeader + pods.map(Self.text).joined() + textSummary
  }

  var textHeader: String {
    var out = "records: \(Self.clean(recordsDirectory)) (\(recordsLayout == "kubelet" ? "the kubelet's image_manager, keyed by image ID" : "Pullwarden's recordsDir, keyed by image name")); kubelet rules \(rules.rawValue)\n"
    out += "matching: \(matching.explanation)\n"
    if podsOnOtherNodes > 0 { out += "pods on other nodes, left out (--node): \(podsOnOtherNodes)\n" }
    return out
  }

  static func text(_ pod: AuditedPod) -> String {
    var out = "\npod \(clean(pod.pod.namespace + "/" + pod.pod.name))"
    if !pod.pod.nodeName.isEmpty { out += " on node \(clean(pod.pod.nodeName))" }
    out += "\n"
    for container in pod.containers {
      let c = container.container
      out += "  \(c.kind.rawValue) \(clean(c.name)): \(clean(c.image)) (imagePullPolicy \(clean(c.pullPolicy)))\n"
      if container.matching == .none {
        out += "    \(clean(container.matchNote))\n"
      } else {
        out += "    matched by \(container.matching.label): \(clean(container.matchNote))\n"
      }
      out += "    credentials: \(clean(container.credentialsText))\n"
      var rows = [["POLICY", "OUTCOME", "DECISION", "WHY"]]
      for verdict in container.verdicts {
        let decision = verdict.decision.map { "\($0.mustPull ? "must pull" : "may use") (\($0.reason.rawValue))" } ?? "-"
        // A "may use" says why in its detail alone; a "must pull" adds what the re-pull meets.
        let why = verdict.decision.map { $0.mustPull ? $0.detail + "; " + verdict.why : $0.detail } ?? verdict.why
        rows.append([verdict.policy.rawValue, verdict.outcome.label, decision, clean(why)])
      }
      out += table(rows, indent: "    ")
    }
    return out
  }

  var textSummary: String {
    var out = "\nSUMMARY (pods; a pod counts under its worst container)\n"
    var rows = [["POLICY", "KEEP WORKING", "RE-PULL WITH CREDENTIALS", "WOULD FAIL", "NOT AFFECTED", "UNKNOWN (NOT RECORDED)"]]
    for policy in VerificationPolicy.allCases {
      let counts = summary(policy)
      rows.append([
        policy.rawValue, "\(counts.keepsWorking)", "\(counts.rePullWithCredentials)", "\(counts.wouldFail)", "\(counts.notAffected)",
        "\(counts.notRecorded)",
      ])
    }
    out += Self.table(rows)
    let modes = matchingCounts.map { "\($0.0.label) for \($0.1) container\($0.1 == 1 ? "" : "s")" }
    out += "matched by: " + (modes.isEmpty ? "no containers" : modes.joined(separator: "; ")) + "\n"
    return out
  }

  /// Tenant text on one line, control and bidirectional characters escaped (printable ASCII without
  /// a backslash, nearly every string, is returned as it is: the text of 10,000 pods is megabytes).
  static func clean(_ text: String) -> String {
    if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C }) { return text }
    return PullDecision.oneLine(text)
  }

  /// Rows with every column but the last padded to its widest cell, two spaces apart, each line
  /// indented. The padded cells are the audit's own ASCII words, so bytes count as columns.
  static func table(_ rows: [[String]], indent: String = "") -> String {
    var widths: [Int] = []
    for row in rows {
      for (index, cell) in row.dropLast().enumerated() {
        if index == widths.count { widths.append(0) }
        widths[index] = max(widths[index], cell.utf8.count)
      }
    }
    var out = ""
    for row in rows {
      out += indent
      for (index, cell) in row.enumerated() {
        out += cell
        if index < row.count - 1 { out += String(repeating: " ", count: widths[index] - cell.utf8.count + 2) }
      }
      out += "\n"
    }
    return out
  }
}

extension AuditedPod {
  var json: JSONValue {
    var outcomes = JSONObject()
    for policy in VerificationPolicy.allCases { outcomes[policy.rawValue] = .string(outcome(policy).rawValue) }
    return .object([
      "namespace": .string(pod.namespace),
      "name": .string(pod.name),
      "uid": .string(pod.uid),
      "nodeName": .string(pod.nodeName),
      "outcome": .object(outcomes),
      "containers": .array(containers.map(\.json)),
    ])
  }
}

extension AuditedContainer {
  /// Secrets by name and credential hash, config sources by name: never a credential.
  var credentialsText: String {
    var parts: [String] = []
    for secret in podSecrets { parts.append("Secret \(secret.namespace)/\(secret.name) (hash \(secret.credentialHash))") }
    if let account = podServiceAccount { parts.append(account.labelled) }
    for source in configSources { parts.append("config source \(source)") }
    return parts.isEmpty ? (holdsCredentials ? "pull Secrets not checked (no --secrets)" : "none for this image") : parts.joined(separator: ", ")
  }

  var json: JSONValue {
    var policies = JSONObject()
    for verdict in verdicts {
      var entry: JSONObject = ["outcome": .string(verdict.outcome.rawValue), "why": .string(verdict.why)]
      if let decision = verdict.decision {
        entry["mustPull"] = .bool(decision.mustPull)
        entry["reason"] = .string(decision.reason.rawValue)
        entry["detail"] = .string(decision.detail)
      }
      policies[verdict.policy.rawValue] = .object(entry)
    }
    return .object([
      "kind": .string(container.kind.rawValue),
      "name": .string(container.name),
      "image": .string(container.image),
      "imagePullPolicy": .string(container.pullPolicy),
      "matching": .string(matching.rawValue),
      "matchNote": .string(matchNote),
      "imageRefs": .array(imageRefs.map { .string($0) }),
      "onNode": onNode.map { .bool($0) } ?? .null,
      "credentials": .object([
        "secrets": .array(
          podSecrets.map {
            .object([
              "namespace": .string($0.namespace), "name": .string($0.name), "uid": .string($0.uid),
              "credentialHash": .string($0.credentialHash),
            ])
          }),
        "serviceAccount": podServiceAccount.map {
          .object(["namespace": .string($0.namespace), "name": .string($0.name), "uid": .string($0.uid)])
        } ?? .null,
        "configSources": .array(configSources.map { .string($0) }),
        "holdsCredentials": .bool(holdsCredentials),
      ]),
      "policies": .object(policies),
    ])
  }
}
