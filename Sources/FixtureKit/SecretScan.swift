import Foundation

/// Finds secrets where they do not belong after a case ran: every password, auth string and
/// service-account token the case's inputs hold (docker configs, Secrets in YAML or JSON, `data`
/// base64 included, the request's token) or its answer handed out, searched plain and base64-encoded in
/// stderr, in stdout beyond the one response line, and in every file the run wrote (records, intents,
/// expiry files, the Secret index, temporary files).
///
/// provide's response on stdout is where credentials belong; nothing else a case writes may hold one
/// (for other commands, such as `explain`, not even stdout).
public enum SecretScan {
  /// Secrets shorter than this are skipped: "pw" would match half the bytes of any record.
  static let minimumLength = 6

  public static func check(_ workspace: FixtureRunner.Workspace) -> [String] {
    var secrets = Set<String>()
    for (_, data) in workspace.inputs { secrets.formUnion(self.secrets(in: String(decoding: data, as: UTF8.self))) }
    let stdout = String(decoding: workspace.stdout, as: UTF8.self)
    // Only provide answers with credentials; every other command's whole stdout (explain's report
    // above all) must be free of them.
    let answersWithCredentials = workspace.arguments.isEmpty || workspace.arguments.first == "provide"
    let responseLine =
      answersWithCredentials
      ? stdout.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "" : ""
    secrets.formUnion(self.secrets(in: responseLine))
    let forms = secrets.filter { $0.utf8.count >= minimumLength }.flatMap { secret in
      [secret, Data(secret.utf8).base64EncodedString(), base64URL(secret)].map { (secret, $0) }
    }
    guard !forms.isEmpty else { return [] }

    var failures: [String] = []
    func search(_ text: String, in place: String) {
      for (secret, form) in forms where text.contains(form) {
        failures.append("secret scan: \(place) holds a secret (\(form == secret ? "plain" : "base64") form of \(redacted(secret)))")
      }
    }
    search(String(decoding: workspace.stderr, as: UTF8.self), in: "stderr")
    if answersWithCredentials {
      let rest = stdout.dropFirst(responseLine.count)
      if rest.count > 1 { search(String(rest.dropFirst()), in: "stdout beyond the response") }
    } else {
      search(stdout, in: "stdout")
    }
    for (path, data) in FixtureRunner.files(in: workspace.directory) where workspace.inputs[path] != data {
      search(String(decoding: data, as: UTF8.self), in: "written file \(path)")
    }
    return failures
  }

  /// Passwords, auth strings (and the password inside them), tokens and base64 `data` values of
  /// Secrets, found by shape in JSON or YAML text, recursively through decoded base64.
  static func secrets(in text: String, depth: Int = 0) -> Set<String> {
    var found = Set<String>()
    let patterns = [
      #""(?:password|auth|identitytoken|registrytoken|serviceAccountToken|access_token|token)"\s*:\s*"([^"\\]+)""#,
      #"(?m)^\s*(?:password|auth|serviceAccountToken):\s*['"]?([^'"\s,}]+)"#,
      #"(?m)^\s*\.docker(?:configjson|cfg):\s*['"]?([A-Za-z0-9+/=]{8,})['"]?\s*$"#,
    ]
    for pattern in patterns {
      guard let expression = try? NSRegularExpression(pattern: pattern) else { continue }
      let range = NSRange(text.startIndex..., in: text)
      for match in expression.matches(in: text, range: range) {
        guard let capture = Range(match.range(at: 1), in: text) else { continue }
        let value = String(text[capture])
        found.insert(value)
        if depth < 2, let decoded = Data(base64Encoded: value).map({ String(decoding: $0, as: UTF8.self) }) {
          // An auth string's password, or a Secret's base64 docker config and what it holds.
          if let colon = decoded.firstIndex(of: ":"), !decoded.contains("{") {
            found.insert(String(decoded[decoded.index(after: colon)...]))
          }
          found.formUnion(secrets(in: decoded, depth: depth + 1))
        }
        // A JWT's parts: its signature and claims must not leak either.
        let parts = value.split(separator: ".")
        if parts.count == 3 && value.hasPrefix("eyJ") { found.formUnion(parts.map(String.init)) }
      }
    }
    return found
  }

  private static func base64URL(_ text: String) -> String {
    Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
      .replacingOccurrences(of: "=", with: "")
  }

  /// Enough of a secret to find it in the case, not enough to leak it through the test log.
  private static func redacted(_ secret: String) -> String {
    "\"\(secret.prefix(3))…\" (\(secret.utf8.count) bytes)"
  }
}
