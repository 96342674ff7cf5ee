import Synchronization
import Testing

@testable import PullwardenCore

/// Input text on stderr: one error stays one line, no terminal escapes, bounded repeats.
@Suite struct EscapingTests {
  @Test(arguments: [
    ("plain", #""plain""#),
    ("new\nline", #""new\nline""#),
    ("tab\tcr\r", #""tab\tcr\r""#),
    ("ansi\u{1B}[31mred", #""ansi\x1b[31mred""#),
    ("del\u{7F}nul\u{0}", #""del\x7fnul\x00""#),
    ("quote\" back\\", #""quote\" back\\""#),
    ("c1\u{85}nbsp\u{A0}", #""c1\u0085nbsp\u00a0""#),
    ("ls\u{2028}ps\u{2029}bidi\u{202E}", #""ls\u2028ps\u2029bidi\u202e""#),
    ("private\u{F0000}", #""private\U000f0000""#),
    ("é☺ 漢字", #""é☺ 漢字""#),
  ])
  func quotesLikeGoPercentQ(text: String, quoted: String) {
    #expect(Escaping.quoted(text) == quoted)
    #expect("key \(quoted: text)" == "key " + quoted)
  }

  @Test func lineEscapesOnlyWhatDoesNotPrint() {
    #expect(Escaping.line(#"a "quoted" \ text"#) == #"a "quoted" \ text"#)
    #expect(Escaping.line("one\ntwo\u{1B}[2J") == #"one\ntwo\x1b[2J"#)
  }

  /// Text in an error that came from input (a registry key with a newline, as a Secret may hold)
  /// cannot split the error: `PullwardenError` escapes when it is printed.
  @Test func errorsStayOnOneLine() {
    let error = PullwardenError(
      .source, "bad key \"x.io\npullwarden: forged line\"", at: "secrets/a\u{1B}[31m.yaml:3:5")
    let text = error.description
    #expect(!text.contains("\n") && !text.contains("\u{1B}"))
    #expect(text == #"bad key "x.io\npullwarden: forged line" (secrets/a\x1b[31m.yaml:3:5)"#)
  }

  @Test func warningsStayOnOneLine() {
    let log = WarningLog()
    log.diagnostics.warn("ignoring registry \"evil.io\n\u{1B}[0mpullwarden: warning: all fine\"")
    #expect(log.all == [#"ignoring registry "evil.io\n\x1b[0mpullwarden: warning: all fine""#])
  }

  /// 500 skipped Opaque Secrets cost four lines, not 500; one-off warnings are always written.
  @Test func repeatedWarningsAreSummarised() {
    let log = WarningLog()
    let diagnostics = log.diagnostics
    let built = Mutex(0)
    for index in 0..<500 {
      diagnostics.warn(
        { built.withLock { $0 += 1 }; return "ignoring Secret ns/s\(index): its type is \"Opaque\"" }(),
        kind: "Secrets without registry credentials")
      if index == 10 { diagnostics.warn("a one-off warning") }
    }
    diagnostics.warn("ignoring registry \"x\" in f", kind: "registry entries without credentials")
    diagnostics.summarize()
    #expect(log.all == [
      "ignoring Secret ns/s0: its type is \"Opaque\"",
      "ignoring Secret ns/s1: its type is \"Opaque\"",
      "ignoring Secret ns/s2: its type is \"Opaque\"",
      "a one-off warning",
      "ignoring registry \"x\" in f",
      "… and 497 more like this (Secrets without registry credentials)",
    ])
    // Suppressed messages are never built (building one can cost a YAML position lookup).
    #expect(built.withLock { $0 } == Diagnostics.repeatLimit)
  }

  /// "\r\n" is one Character in Swift; trimming compares bytes, so CRLF endings are trimmed.
  @Test func trimmingHandlesCRLF() {
    #expect("value\r\n".trimmingASCIIWhitespace() == "value")
    #expect("\r\n\t value \r\n".trimmingASCIIWhitespace() == "value")
    #expect(" é ".trimmingASCIIWhitespace() == "é")
    #expect("\r\n".trimmingASCIIWhitespace() == "")
    #expect("a\r\nb".trimmingASCIIWhitespace() == "a\r\nb")
  }
}
