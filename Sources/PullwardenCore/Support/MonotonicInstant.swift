#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A point on the monotonic clock, for deadlines and elapsed times.
///
/// The standard library's `ContinuousClock` lives in the `_Concurrency` module; importing it links the
/// concurrency runtime and libdispatch, whose start-up (a constructor, 4,000 relocations) every call
/// would pay for. This is the one thing Pullwarden used from it.
public struct MonotonicInstant: Comparable, Hashable, Sendable {
  /// Nanoseconds on `CLOCK_MONOTONIC` (not wall time: a clock step never moves a deadline).
  private let nanoseconds: Int64

  private init(nanoseconds: Int64) {
    self.nanoseconds = nanoseconds
  }

  public static var now: MonotonicInstant {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return MonotonicInstant(nanoseconds: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
  }

  /// The time from `self` to `later` (negative when `later` is earlier).
  public func duration(to later: MonotonicInstant) -> Duration {
    .nanoseconds(later.nanoseconds &- nanoseconds)
  }

  public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
    lhs.nanoseconds < rhs.nanoseconds
  }

  /// The instant `duration` later, saturating instead of overflowing (a 290-year timeout is "never").
  public static func + (instant: MonotonicInstant, duration: Duration) -> MonotonicInstant {
    let (seconds, attoseconds) = duration.components
    let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    let delta = overflow ? (seconds < 0 ? Int64.min : Int64.max) : saturated(scaled, attoseconds / 1_000_000_000)
    return MonotonicInstant(nanoseconds: saturated(instant.nanoseconds, delta))
  }

  private static func saturated(_ a: Int64, _ b: Int64) -> Int64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b < 0 ? Int64.min : Int64.max) : sum
  }

  public static func - (later: MonotonicInstant, earlier: MonotonicInstant) -> Duration {
    earlier.duration(to: later)
  }
}
