import Foundation
import PackagePlugin

/// `swift package check-fixtures [CASE-PREFIX...]`: builds pullwarden and runs every golden case
/// under Fixtures/ through it. The work is done by the pullwarden-fixtures executable.
@main
struct CheckFixtures: CommandPlugin {
  func performCommand(context: PluginContext, arguments: [String]) async throws {
    let build = try packageManager.build(.product("pullwarden"), parameters: .init(configuration: .debug, logging: .concise))
    guard build.succeeded, let binary = build.builtArtifacts.first(where: { $0.kind == .executable }) else {
      Diagnostics.error("building pullwarden failed:\n\(build.logText)")
      return
    }
    let runner = try context.tool(named: "pullwarden-fixtures")
    let process = Process()
    process.executableURL = runner.url
    process.arguments =
      ["--binary", binary.url.path, "--fixtures", context.package.directoryURL.appendingPathComponent("Fixtures").path]
      + arguments
    try process.run()
    process.waitUntilExit()
    if process.terminationStatus != 0 {
      Diagnostics.error("fixture cases failed")
      throw ExitCode.failure
    }
  }
}

private enum ExitCode: Error {
  case failure
}
