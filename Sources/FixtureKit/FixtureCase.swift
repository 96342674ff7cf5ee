import Foundation

/// One golden case under `Fixtures/`: a folder with an `args` file and the expected outcome.
///
/// Files in a case folder:
/// - `args`: the command-line arguments, one per line (required; marks the folder as a case).
/// - `stdin` or `request.json`: what is piped to stdin (empty when neither exists).
/// - `env`: extra `NAME=value` lines for the environment.
/// - `expected-exit`: the exit status (default 0).
/// - `expected-stdout.json`: stdout must be one line of JSON equal to this (member order ignored).
///   `expected-stdout`: stdout must equal this byte for byte. Neither: stdout must be empty.
/// - `expected-stderr`: every non-blank line must appear in stderr. Absent: stderr must be empty.
/// - `expected-files/`: files the run must leave in the case folder. Each file under it must exist at
///   the same relative path with the same bytes, where `<TIMESTAMP>` stands for any RFC 3339 UTC time
///   with whole seconds (`2025-01-02T03:04:05Z`) or milliseconds (`…:05.678Z`), for records and log
///   lines written at run time, and `<NUMBER>` for a run of digits (a duration). Each directory
///   under it must hold exactly the entries it lists, so files a run must not create (or must remove)
///   are caught; an empty directory is kept in git by an `.expected-empty` file, which is not itself
///   compared. A directory holding an `.expected-any` file must exist, but its contents are not
///   compared (caches whose file names depend on the case's temporary path).
/// - `README` or `description`: what the case shows (printed on failure).
///
/// The case runs in a fresh copy of its folder, which is the working directory; `$CASE` in expected
/// output stands for that copy's path, and `${NAME}` in any text file of the copy is replaced by the
/// value of variable NAME from `FixtureRunner.variables` (e.g. a test server's address).
///
/// Token-source cases run against the local HTTPS token service (`TestTokenServer`), which the runner
/// starts when any case mentions `${TOKEN_...}`: `${TOKEN_SERVER}` (its https URL), `${TOKEN_SERVER_CA}`,
/// `${TOKEN_SERVER_WRONG_CA}`, `${TOKEN_SERVER_MTLS}` (a URL that requires a client certificate),
/// `${TOKEN_SERVER_CLIENT_CERT}`, `${TOKEN_SERVER_CLIENT_KEY}` and `${TOKEN_PROXY}`. Faults are chosen by
/// URL path (`${TOKEN_SERVER}/s/status=503,fail=1/token`; see token-server.py); `${CASE_URL_ENCODED}` is
/// the case copy's path percent-encoded, for the API server stand-in's `api=` option. `${RUN_ID}` is unique per
/// run of a case, for fault counters that must start fresh. A case that needs the server when it could
/// not start fails with the reason.
public struct FixtureCase: Sendable, CustomStringConvertible, Hashable {
  /// Path relative to the fixtures root, e.g. `provide/v1-basic`.
  public var name: String
  public var directory: URL

  public var description: String { name }

  /// Every case folder below `root`, sorted by name.
  public static func discover(in root: URL) -> [FixtureCase] {
    guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isDirectoryKey]) else {
      return []
    }
    var cases: [FixtureCase] = []
    let rootPath = root.standardizedFileURL.path
    for case let url as URL in enumerator where url.lastPathComponent == "args" {
      let directory = url.deletingLastPathComponent().standardizedFileURL
      var name = String(directory.path.dropFirst(rootPath.count))
      while name.hasPrefix("/") { name.removeFirst() }
      cases.append(FixtureCase(name: name, directory: directory))
    }
    return cases.sorted { $0.name < $1.name }
  }
}

/// The outcome of running one case.
public struct FixtureResult: Sendable {
  public var fixture: FixtureCase
  /// Empty when the case passed.
  public var failures: [String]
  public var passed: Bool { failures.isEmpty }
}
