/// `pullwarden explain` output: aligned text for people, one line of JSON for automation. Both name
/// credentials by username, origin and hash; neither ever holds a password, token or auth string.
/// Input text (keys, names, annotation values) is escaped onto one line.
extension Explanation {
  // MARK: Text

  public func text() -> String {
    var out: [String] = []
    func field(_ name: String, _ value: String) { out.append(pad(name, 18) + Escaping.line(value)) }

    field("image", image + (requestedImage != image ? "  (requested as \(requestedImage))" : ""))
    field("config", configPath)
    field("calls", live ? "live: the sources' calls were made" : "none made (dry run; --live makes them)")
    if let token {
      var text = "service account \(token.serviceAccount.namespace)/\(token.serviceAccount.name), uid \(token.serviceAccount.uid)"
      text += token.synthetic ? " (synthetic token from --service-account)" : ""
      if let expiresAt = token.expiresAt { text += ", expires \(expiresAt.rfc3339)" }
      field("token", text)
    } else {
      field("token", "none in the request")
    }
    if !annotations.isEmpty {
      field("annotations", annotations.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
    }
    field("result", resultSentence)
    out.append("")

    out.append("sources (config order):")
    let nameWidth = sources.map { $0.verdict.source.count }.max() ?? 0
    let typeWidth = sources.map { $0.verdict.type.count }.max() ?? 0
    let statusWidth = sources.map { $0.verdict.status.count }.max() ?? 0
    for (index, report) in sources.enumerated() {
      let verdict = report.verdict
      out.append(
        Escaping.line(
          "  \(index + 1). " + pad(verdict.source, nameWidth + 2) + pad(verdict.type, typeWidth + 2) + pad(verdict.status, statusWidth + 2)
            + verdict.summary))
      let indent = "     "
      if case .notServed = verdict.outcome, verdict.mismatches.count > 1 {
        for failure in verdict.mismatches { out.append(Escaping.line(indent + "\(quoted: failure.pattern): \(failure.mismatch)")) }
      }
      if verdict.matchedPattern != nil || !report.calls.isEmpty, let location = report.location {
        out.append(Escaping.line(indent + "from " + location))
      }
      for key in report.leftOut {
        out.append(Escaping.line(indent + "left out: \(key.key)" + (key.mismatch.map { " (\($0))" } ?? " (outside this answer's scope)")))
      }
      if report.leftOutCount > report.leftOut.count {
        out.append(indent + "left out: … and \(report.leftOutCount - report.leftOut.count) more")
      }
      for call in report.calls { out.append(Escaping.line(indent + Self.describe(call))) }
    }
    out.append("")

    if !keys.isEmpty {
      out.append("keys (the order the kubelet tries them; it tries only keys matching the image):")
      let keyWidth = keys.map(\.key.count).max() ?? 0
      let userWidth = keys.map(\.username.count).max() ?? 0
      for key in keys {
        let position = key.isAlias ? "   " : pad("\(key.position).", 3)
        let match = key.matchesImage ? "" : "  (other image; not tried for this one)"
        out.append(
          Escaping.line(
            "  \(position) " + pad(key.key, keyWidth + 2) + pad(key.username, userWidth + 2) + "source \(quoted: key.source), "
              + Self.describe(key.origin) + ", " + Self.hashText(key) + match))
        if key.isAlias {
          out.append(Escaping.line("      alias of \(key.kubeletKey): the kubelet drops the fragment and tries both, in an order of its own"))
        }
      }
      for repeated in repeats {
        out.append(
          Escaping.line(
            "  -   \(repeated.key) \(repeated.username) from source \(quoted: repeated.source): left out, the same login as an earlier credential"))
      }
      out.append("")
    }

    if case .fails = result {
      field("cache", "none: provide fails, so the kubelet caches nothing and asks again on the next pull")
    } else {
      field("cacheKeyType", pad(scope.type.rawValue, 10) + scope.explanation)
      let bound = keys.contains { $0.unresolved && $0.origin.secret == nil } ? " (at most: the credential's expiry, known after the call, may shorten it)" : ""
      field("cacheDuration", pad(duration.value.description, 10) + duration.explanation + bound)
    }
    if let credentialCacheDirectory {
      field("credentialCache", "\(credentialCacheDirectory): provide reuses a fresh entry before calling; explain neither reads nor writes it")
    }
    out.append("")

    if let record {
      out.append("record (provide would write this under \(recordsDirectory); explain writes nothing):")
      field("  key", record.key)
      field("  file", record.file + (record.exists ? " (exists: merged into)" : " (new: a pull intent is written first)"))
      if record.nodePodsAccessible { field("  access", "nodePodsAccessible: every pod on the node may use the image") }
      for secret in record.secrets {
        field("  Secret", "\(secret.namespace)/\(secret.name), uid \(secret.uid), credentialHash \(secret.credentialHash)")
      }
      for account in record.serviceAccounts {
        field("  serviceAccount", "\(account.namespace)/\(account.name), uid \(account.uid)")
      }
      if record.unresolved { field("  note", "some credentials are known only after the calls (--live)") }
      out.append("")
    } else {
      out.append("record: none (provide records only credentials it hands out for the image)")
      out.append("")
    }

    if case .fails(_, let error) = result {
      out.append("provide's error on stderr for this request (the kubelet logs it):")
      out.append(Escaping.line("  pullwarden: \(error)"))
    }
    if let missLine {
      out.append("provide's warning on stderr for this request:")
      out.append(Escaping.line("  pullwarden: warning: " + missLine))
    }
    if !warnings.isEmpty {
      out.append("warnings (provide writes them too):")
      for warning in warnings { out.append(Escaping.line("  " + warning)) }
    }
    while out.last == "" { out.removeLast() }
    return out.joined(separator: "\n") + "\n"
  }

  var resultSentence: String {
    switch result {
    case .credentials(let count, let unresolved):
      let calls = unresolved > 0 ? " (\(unresolved) only if the calls succeed: --live makes them)" : ""
      return "credentials: the kubelet gets \(count) credential\(count == 1 ? "" : "s") for this image\(calls) (exit 0)"
    case .miss:
      return "miss: no credential for this image; the kubelet pulls anonymously (exit 1)"
    case .fails(let exitCode, let error):
      return "provide fails with exit \(exitCode): \(error) (exit 1)"
    case .undetermined:
      return "undetermined: it depends on what the API server returns; run with --live (exit 1)"
    }
  }

  static func describe(_ origin: CredentialOrigin) -> String {
    var parts: [String] = []
    if let secret = origin.secret { parts.append("Secret \(secret.namespace)/\(secret.name) uid \(secret.uid)") }
    if let account = origin.serviceAccount { parts.append("service account \(account.namespace)/\(account.name) uid \(account.uid)") }
    return parts.isEmpty ? "node-wide" : parts.joined(separator: " via ")
  }

  static func hashText(_ key: KeyReport) -> String {
    if let hash = key.credentialHash { return "hash \(hash)" }
    return key.unresolved && key.origin.serviceAccount != nil ? "hash known after the call" : "hash unknown"
  }

  static func describe(_ call: SourceNote) -> String {
    switch call {
    case .wouldCall(let method, let url, let purpose):
      return "would call: \(method) \(url) (\(purpose))"
    case .called(let record):
      let answer = record.status.map { "HTTP \($0)" } ?? "no answer: \(record.failure ?? "unknown")"
      let attempts = record.attempts > 1 ? ", \(record.attempts) attempts" : ""
      return "called: \(record.method) \(record.url) → \(answer) in \(record.milliseconds) ms\(attempts)"
    default:
      return ""
    }
  }

  private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
  }

  // MARK: JSON

  /// The documented JSON shape (README, "Troubleshooting a pull"); one line with `JSON.encode`.
  public var json: JSONValue {
    var object = JSONObject()
    object["image"] = .string(image)
    object["requestedImage"] = .string(requestedImage)
    object["config"] = .string(configPath)
    object["live"] = .bool(live)
    switch result {
    case .credentials: object["result"] = .string("credentials")
    case .miss: object["result"] = .string("miss")
    case .fails: object["result"] = .string("fails")
    case .undetermined: object["result"] = .string("undetermined")
    }
    object["exitCode"] = .integer(Int64(exitCode))
    object["summary"] = .string(resultSentence)
    if case .fails(let code, let error) = result {
      object["provideExitCode"] = .integer(Int64(code))
      object["error"] = .string(error.description)
    }
    if let token {
      var entry = Self.json(token.serviceAccount)
      entry["synthetic"] = .bool(token.synthetic)
      entry["expiresAt"] = token.expiresAt.map { .string($0.rfc3339) } ?? .null
      entry["audiences"] = .array(token.audiences.map { .string($0) })
      object["serviceAccount"] = .object(entry)
    } else {
      object["serviceAccount"] = .null
    }
    var annotationObject = JSONObject()
    for (key, value) in annotations { annotationObject[key] = .string(value) }
    object["annotations"] = .object(annotationObject)
    object["sources"] = .array(sources.map(Self.json))
    object["keys"] = .array(keys.map(Self.json))
    object["repeats"] = .array(repeats.map(Self.json))
    if case .fails = result {
      object["cacheKeyType"] = .null
      object["cacheDuration"] = .null
    } else {
      object["cacheKeyType"] = .object(["value": .string(scope.type.rawValue), "reason": .string(scope.explanation)])
      object["cacheDuration"] = .object(["value": .string(duration.value.description), "reason": .string(duration.explanation)])
    }
    object["credentialCache"] = credentialCacheDirectory.map { .string($0) } ?? .null
    if let record {
      var entry = JSONObject()
      entry["recordsDir"] = .string(recordsDirectory)
      entry["key"] = .string(record.key)
      entry["file"] = .string(record.file)
      entry["exists"] = .bool(record.exists)
      entry["nodePodsAccessible"] = .bool(record.nodePodsAccessible)
      entry["kubernetesSecrets"] = .array(
        record.secrets.map {
          .object([
            "namespace": .string($0.namespace), "name": .string($0.name), "uid": .string($0.uid), "credentialHash": .string($0.credentialHash),
          ])
        })
      entry["kubernetesServiceAccounts"] = .array(record.serviceAccounts.map { .object(Self.json($0)) })
      entry["unresolved"] = .bool(record.unresolved)
      object["record"] = .object(entry)
    } else {
      object["record"] = .null
    }
    object["provideWarning"] = missLine.map { .string($0) } ?? .null
    object["warnings"] = .array(warnings.map { .string($0) })
    return .object(object)
  }

  static func json(_ account: ServiceAccountCoordinates) -> JSONObject {
    ["namespace": .string(account.namespace), "name": .string(account.name), "uid": .string(account.uid)]
  }

  static func json(_ report: SourceReport) -> JSONValue {
    let verdict = report.verdict
    var entry = JSONObject()
    entry["name"] = .string(verdict.source)
    entry["type"] = .string(verdict.type)
    entry["status"] = .string(verdict.status)
    entry["reason"] = .string(verdict.reasonCode)
    entry["detail"] = .string(verdict.summary)
    entry["matchedPattern"] = verdict.matchedPattern.map { .string($0) } ?? .null
    entry["mismatches"] = .array(
      verdict.mismatches.map {
        .object(["pattern": .string($0.pattern), "part": .string($0.mismatch.part), "detail": .string($0.mismatch.description)])
      })
    if case .served(let count) = verdict.outcome { entry["credentials"] = .integer(Int64(count)) } else { entry["credentials"] = .integer(0) }
    entry["location"] = report.location.map { .string($0) } ?? .null
    entry["leftOut"] = .array(
      report.leftOut.map { .object(["key": .string($0.key), "detail": $0.mismatch.map { .string($0.description) } ?? .null]) })
    entry["leftOutCount"] = .integer(Int64(report.leftOutCount))
    entry["calls"] = .array(
      report.calls.compactMap { call -> JSONValue? in
        switch call {
        case .wouldCall(let method, let url, let purpose):
          return .object(["made": .bool(false), "method": .string(method), "url": .string(url), "purpose": .string(purpose)])
        case .called(let record):
          return .object([
            "made": .bool(true), "method": .string(record.method), "url": .string(record.url),
            "status": record.status.map { .integer(Int64($0)) } ?? .null, "failure": record.failure.map { .string($0) } ?? .null,
            "attempts": .integer(Int64(record.attempts)), "milliseconds": .integer(record.milliseconds),
          ])
        default:
          return nil
        }
      })
    return .object(entry)
  }

  static func json(_ key: KeyReport) -> JSONValue {
    var entry = JSONObject()
    entry["position"] = .integer(Int64(key.position))
    entry["key"] = .string(key.key)
    entry["kubeletKey"] = .string(key.kubeletKey)
    entry["alias"] = .bool(key.isAlias)
    entry["matchesImage"] = .bool(key.matchesImage)
    entry["username"] = .string(key.username)
    entry["source"] = .string(key.source)
    var origin = JSONObject()
    origin["nodeWide"] = .bool(key.origin.isNodeWide)
    origin["secret"] =
      key.origin.secret.map { .object(["namespace": .string($0.namespace), "name": .string($0.name), "uid": .string($0.uid)]) } ?? .null
    origin["serviceAccount"] = key.origin.serviceAccount.map { .object(json($0)) } ?? .null
    entry["origin"] = .object(origin)
    entry["credentialHash"] = key.credentialHash.map { .string($0) } ?? .null
    entry["expiresAt"] = key.expiresAt.map { .string($0.rfc3339) } ?? .null
    entry["unresolved"] = .bool(key.unresolved)
    return .object(entry)
  }
}
