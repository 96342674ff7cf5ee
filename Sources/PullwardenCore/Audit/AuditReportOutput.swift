/// The audit as text (per-pod tables and a summary), as JSON, and as YAML from the same JSON value.
extension AuditReport {
  /// The field names here are the documented, stable `-o json` shape.
  public var json: JSONValue {
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
    return .object([
      "kind": .string("PullwardenAudit"),
      "recordsDirectory": .string(recordsDirectory),
      "recordsLayout": .string(recordsLayout),
      "matching": .string(matching.rawValue),
      "matchingCounts": .object(matchingCounts),
      "kubeletVersion": .string(rules.rawValue),
      "allowlist": .array(allowlist.map { .string($0) }),
      "summary": .object(summary),
      "pods": .array(pods.map(\.json)),
      "warnings": .array(warnings.map { .string($0) }),
    ])
  }

  /// Per pod a table of its containers under each policy, then the summary table.
  public func text() -> String {
    var out = "records: \(Self.clean(recordsDirectory)) (\(recordsLayout == "kubelet" ? "the kubelet's image_manager, keyed by image ID" : "Pullwarden's recordsDir, keyed by image name")); kubelet rules \(rules.rawValue)\n"
    out += "matching: \(matching.explanation)\n"
    for pod in pods {
      out += "\npod \(Self.clean(pod.pod.namespace + "/" + pod.pod.name))"
      if !pod.pod.nodeName.isEmpty { out += " on node \(Self.clean(pod.pod.nodeName))" }
      out += "\n"
      for container in pod.containers {
        let c = container.container
        out += "  \(c.kind.rawValue) \(Self.clean(c.name)): \(Self.clean(c.image)) (imagePullPolicy \(Self.clean(c.pullPolicy)))\n"
        if container.matching == .none {
          out += "    \(Self.clean(container.matchNote))\n"
        } else {
          out += "    matched by \(container.matching.label): \(Self.clean(container.matchNote))\n"
        }
        out += "    credentials: \(Self.clean(container.credentialsText))\n"
        var rows = [["POLICY", "OUTCOME", "DECISION", "WHY"]]
        for verdict in container.verdicts {
          let decision = verdict.decision.map { "\($0.mustPull ? "must pull" : "may use") (\($0.reason.rawValue))" } ?? "-"
          // A "may use" says why in its detail alone; a "must pull" adds what the re-pull meets.
          let why = verdict.decision.map { $0.mustPull ? $0.detail + "; " + verdict.why : $0.detail } ?? verdict.why
          rows.append([verdict.policy.rawValue, verdict.outcome.label, decision, Self.clean(why)])
        }
        out += Self.table(rows, indent: "    ")
      }
    }
    out += "\nSUMMARY (pods; a pod counts under its worst container)\n"
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
