import Testing

@testable import PullwardenCore

/// Go's `time.Duration` text form, which the kubelet parses for cacheDuration.
@Suite struct GoDurationTests {
  @Test(arguments: [
    (Int64(0), "0s"),
    (1, "1ns"),
    (1_100, "1.1µs"),
    (2_200_000, "2.2ms"),
    (3_300_000_000, "3.3s"),
    (245_000_000_000, "4m5s"),
    (245_001_000_000, "4m5.001s"),
    (18_367_001_000_000, "5h6m7.001s"),
    (480_000_000_001, "8m0.000000001s"),
    (300_000_000_000, "5m0s"),
    (3_600_000_000_000, "1h0m0s"),
    (-1_000_000_000, "-1s"),
    (Int64.max, "2562047h47m16.854775807s"),
    (Int64.min, "-2562047h47m16.854775808s"),
  ])
  func formatsLikeGo(nanoseconds: Int64, text: String) {
    #expect(GoDuration(nanoseconds: nanoseconds).description == text)
  }

  @Test(arguments: [
    ("0", Int64(0)), ("5s", 5_000_000_000), ("30s", 30_000_000_000), ("1478s", 1_478_000_000_000),
    ("-5s", -5_000_000_000), ("+5s", 5_000_000_000), ("-0", 0), ("+0", 0),
    ("5.0s", 5_000_000_000), ("5.6s", 5_600_000_000), ("5.s", 5_000_000_000), (".5s", 500_000_000),
    ("1.004s", 1_004_000_000), ("100.00100s", 100_001_000_000), ("10ns", 10), ("11us", 11_000),
    ("12µs", 12_000), ("12μs", 12_000), ("13ms", 13_000_000), ("15m", 900_000_000_000),
    ("16h", 57_600_000_000_000), ("3h30m", 12_600_000_000_000), ("10.5s4m", 250_500_000_000),
    ("-2m3.4s", -123_400_000_000), ("1h2m3s4ms5us6ns", 3_723_004_005_006),
    ("39h9m14.425s", 140_954_425_000_000), ("52763797000ns", 52_763_797_000),
    ("0.3333333333333333333h", 1_200_000_000_000), ("9007199254740993ns", 9_007_199_254_740_993),
    ("9223372036854775807ns", Int64.max), ("9223372036.854775807s", Int64.max),
    ("-9223372036854775808ns", Int64.min), ("0.100000000000000000000h", 360_000_000_000),
  ])
  func parsesLikeGo(text: String, nanoseconds: Int64) throws {
    #expect(try GoDuration(parsing: text).nanoseconds == nanoseconds)
  }

  @Test(arguments: ["", "3", "-", "s", ".", "-.", ".s", "+.s", "1d", "3000000h", "9223372036854775808ns", "5 s", "1e3s"])
  func rejectsWhatGoRejects(text: String) {
    #expect(throws: GoDuration.ParseError.self) { try GoDuration(parsing: text) }
  }

  @Test func roundTripsThroughText() throws {
    for nanoseconds: Int64 in [0, 1, 999, 1_000_000, 59_999_999_999, 86_400_000_000_000, 123_456_789_012_345] {
      let duration = GoDuration(nanoseconds: nanoseconds)
      #expect(try GoDuration(parsing: duration.description) == duration)
    }
  }
}
