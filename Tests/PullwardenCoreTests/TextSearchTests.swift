import Testing

@testable import PullwardenCore

@Suite("Substring search and splitting without _StringProcessing")
struct TextSearchTests {
  @Test(arguments: [
    ("TLS alert certificate required", "alert certificate", true),
    ("abc", "", true),
    ("", "a", false),
    ("ab", "abc", false),
    ("aaab", "aab", true),  // a partial match that must fall back, not restart past it
    ("abababc", "ababc", true),
    ("ababab", "ababc", false),
    ("/api/v1/namespaces/x/serviceaccounts/y", "/serviceaccounts/", true),
    ("registry/é/app", "é/a", true),
  ])
  func containsText(text: String, fragment: String, expected: Bool) {
    #expect(text.containsText(fragment) == expected)
    #expect(text[...].containsText(fragment[...]) == expected)
  }

  @Test func agreesWithANaiveSearchOnEveryShortBinaryString() {
    // Every text up to 10 letters over {a, b} against every pattern up to 4: the failure function's
    // fall-backs are where a linear search goes wrong.
    func strings(upTo length: Int) -> [String] {
      var all = [""]
      var level = [""]
      for _ in 0..<length {
        level = level.flatMap { [$0 + "a", $0 + "b"] }
        all += level
      }
      return all
    }
    func naive(_ text: String, _ fragment: String) -> Bool {
      let t = Array(text.utf8), f = Array(fragment.utf8)
      guard f.count <= t.count else { return false }
      return (0...(t.count - f.count)).contains { Array(t[$0..<($0 + f.count)]) == f }
    }
    let patterns = strings(upTo: 4)
    for text in strings(upTo: 10) {
      for pattern in patterns where text.containsText(pattern) != naive(text, pattern) {
        Issue.record("\(text) contains \(pattern): expected \(naive(text, pattern))")
      }
    }
  }

  @Test func aLongPeriodicNeedleStaysLinear() {
    // Quadratic search would compare about 10^10 bytes here; this finishes at once.
    let text = String(repeating: "a", count: 100_000) + "b"
    let needle = String(repeating: "a", count: 50_000) + "b"
    #expect(text.containsText(needle))
    #expect(!text.containsText(needle + "a"))
  }

  @Test(arguments: [
    ("one\n\ntwo\n\n\nthree", "\n\n", false, ["one", "two", "\nthree"]),
    ("one\n\ntwo\n\n\nthree", "\n\n", true, ["one", "two", "\nthree"]),
    ("\n\na\n\n", "\n\n", false, ["", "a", ""]),
    ("\n\na\n\n", "\n\n", true, ["a"]),
    ("text SUBCOMMANDS: list", "SUBCOMMANDS:", false, ["text ", " list"]),
    ("no separator", "--", false, ["no separator"]),
    ("", "--", false, [""]),
    ("", "--", true, []),
    ("aaa", "aa", false, ["", "a"]),  // non-overlapping, left to right
  ])
  func splitText(text: String, separator: String, omitting: Bool, expected: [String]) {
    #expect(text.splitText(separator, omittingEmptySubsequences: omitting) == expected)
  }
}

@Suite("The monotonic clock behind deadlines")
struct MonotonicInstantTests {
  @Test func durationsAddAndSubtract() {
    let start = MonotonicInstant.now
    let later = start + .milliseconds(1500)
    #expect(later - start == .milliseconds(1500))
    #expect(start.duration(to: later) == .milliseconds(1500))
    #expect(later.duration(to: start) == .milliseconds(-1500))
    #expect(start < later)
    #expect(start + .zero == start)
  }

  @Test func neverGoesBackwards() {
    var previous = MonotonicInstant.now
    for _ in 0..<1000 {
      let next = MonotonicInstant.now
      #expect(previous <= next)
      previous = next
    }
  }

  @Test func aHugeTimeoutSaturatesInsteadOfTrapping() {
    let now = MonotonicInstant.now
    #expect(now + .seconds(Int64.max) > now + .seconds(1_000_000_000))
    #expect(now + .seconds(Int64.min) < now)
  }
}
