/// Runs every case and prints one line per case plus the closing `N passed, N failed` line.
extension FixtureRunner {
  /// Returns true when every case passed.
  public func runAll(_ cases: [FixtureCase], print write: (String) -> Void) -> Bool {
    var passed = 0, failed = 0
    for fixture in cases {
      let result = run(fixture)
      if result.passed {
        passed += 1
        write("PASS \(fixture.name)")
      } else {
        failed += 1
        write("FAIL \(fixture.name)")
        for failure in result.failures { write("     \(failure)") }
      }
    }
    write("fixtures: \(passed) passed, \(failed) failed")
    return failed == 0 && passed > 0
  }
}
