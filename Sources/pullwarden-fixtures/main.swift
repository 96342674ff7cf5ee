import FixtureKit
import Foundation

// pullwarden-fixtures --binary PATH [--fixtures DIR] [--set NAME=VALUE]... [CASE-PREFIX...]
//
// Runs the golden cases under Fixtures/ through a built pullwarden binary. The check-fixtures plugin
// and CI call it; it prints one line per case and exits non-zero when any case fails. When a case uses
// ${TOKEN_...} variables it starts the local HTTPS token service first (python3 + openssl needed).
var arguments = CommandLine.arguments.dropFirst()
var binary: String?
var fixtures = "Fixtures"
var variables: [String: String] = [:]
var filters: [String] = []
while let argument = arguments.popFirst() {
  switch argument {
  case "--binary": binary = arguments.popFirst()
  case "--fixtures": fixtures = arguments.popFirst() ?? fixtures
  case "--set":
    if let pair = arguments.popFirst(), let equals = pair.firstIndex(of: "=") {
      variables[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
    }
  case "-h", "--help":
    print("usage: pullwarden-fixtures --binary PATH [--fixtures DIR] [--set NAME=VALUE]... [CASE-PREFIX...]")
    exit(0)
  default: filters.append(argument)
  }
}
guard let binary else {
  FileHandle.standardError.write(Data("pullwarden-fixtures: --binary is required\n".utf8))
  exit(64)
}
var cases = FixtureCase.discover(in: URL(fileURLWithPath: fixtures))
if !filters.isEmpty { cases = cases.filter { fixture in filters.contains { fixture.name.hasPrefix($0) } } }
// Cases for the token sources need the local HTTPS token service; start it only when some case does.
var server: TestTokenServer?
var serverProblem: String?
if FixtureRunner.needsTokenServer(cases) {
  do {
    server = try TestTokenServer()
    variables = server!.variables.merging(variables) { $1 }
  } catch {
    serverProblem = "\(error)"
  }
}
let runner = FixtureRunner(binary: URL(fileURLWithPath: binary), variables: variables, serverProblem: serverProblem)
let ok = runner.runAll(cases) { print($0) }
server?.stop()
exit(ok ? 0 : 1)
