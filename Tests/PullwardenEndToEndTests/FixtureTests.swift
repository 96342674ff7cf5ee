import FixtureKit
import Foundation
import Testing

/// The golden cases under Fixtures/, each run through the real binary (the same runner as
/// `swift package check-fixtures`).
@Suite struct FixtureTests {
  static let cases = FixtureCase.discover(in: Pullwarden.fixtures)

  @Test func fixturesExist() {
    #expect(Self.cases.count >= 25, "found \(Self.cases.count) cases under \(Pullwarden.fixtures.path)")
  }

  @Test(arguments: cases)
  func goldenCase(_ fixture: FixtureCase) {
    let result = FixtureRunner(
      binary: Pullwarden.binary, variables: FixtureVariables.current, serverProblem: SharedTokenServer.problem
    ).run(fixture)
    #expect(result.passed, "\(fixture.name):\n\(result.failures.joined(separator: "\n"))")
  }
}

/// Values substituted for `${NAME}` in fixture files; servers started by tests add theirs here.
enum FixtureVariables {
  static var current: [String: String] { SharedTokenServer.server?.variables ?? [:] }
}

/// The process-wide token test server, for fixture cases and the token end-to-end tests.
enum SharedTokenServer {
  static var server: TestTokenServer? { try? TestTokenServer.shared.get() }
  static var problem: String? {
    if case .failure(let error) = TestTokenServer.shared { return "\(error)" }
    return nil
  }
}
