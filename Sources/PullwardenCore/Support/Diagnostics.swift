#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

import Synchronization

/// Where non-fatal notes go (stderr in the executables), so core code never writes to a stream itself.
///
/// The kubelet ignores stderr when the plugin succeeds and appends it to its log when it fails, so a
/// warning must be as free of secrets as an error. Every message is escaped onto one line here
/// (`Escaping.line`), and warnings of one kind are bounded: the first `repeatLimit` are written, the
/// rest counted, and `summarize()` writes one "… and N more like this" line per kind, so 500 ignored
/// Secrets cost four lines of the kubelet's log rather than 500.
public struct Diagnostics: Sendable {
  private let sink: @Sendable (String) -> Void
  private let tally = Tally()

  /// Warnings of one kind written in full; the rest are only counted.
  public static let repeatLimit = 3

  public init(_ sink: @escaping @Sendable (String) -> Void) {
    self.sink = sink
  }

  /// Writes `pullwarden: warning: <message>` lines to stderr.
  public static let standardError = Diagnostics { message in
    let line = "pullwarden: warning: \(message)\n"
    var bytes = Array(line.utf8)
    bytes.withUnsafeMutableBytes { buffer in
      _ = writeAll(fd: 2, buffer: UnsafeRawBufferPointer(buffer))
    }
  }

  /// Drops every note (tests that do not look at warnings).
  public static let discard = Diagnostics { _ in }

  /// Writes `message` on one line.
  ///
  /// - Parameter kind: groups warnings that can repeat once per tenant object (ignored Secrets,
  ///   skipped files, skipped registry entries), worded as what they have in common; nil for one-off
  ///   warnings, which are always written. The message is only built when it is written.
  public func warn(_ message: @autoclosure () -> String, kind: String? = nil) {
    if let kind, tally.count(kind) > Self.repeatLimit { return }
    sink(Escaping.line(message()))
  }

  /// One line per kind of warning that went over `repeatLimit`, in the order the kinds first
  /// appeared; call once at the end of a run (later warnings start a new count).
  public func summarize() {
    for (kind, count) in tally.drain() where count > Self.repeatLimit {
      sink(Escaping.line("… and \(count - Self.repeatLimit) more like this (\(kind))"))
    }
  }

  /// Warnings seen per kind, shared by every copy of one `Diagnostics`.
  private final class Tally: Sendable {
    private let counts = Mutex<[(kind: String, count: Int)]>([])

    /// Counts one more warning of `kind`; returns how many there have been.
    func count(_ kind: String) -> Int {
      counts.withLock { counts in
        if let index = counts.firstIndex(where: { $0.kind == kind }) {
          counts[index].count += 1
          return counts[index].count
        }
        counts.append((kind, 1))
        return 1
      }
    }

    func drain() -> [(kind: String, count: Int)] {
      counts.withLock { counts in
        defer { counts = [] }
        return counts
      }
    }
  }
}

/// Writes the whole buffer, retrying on short writes and EINTR. Returns false on any other error.
@discardableResult
public func writeAll(fd: Int32, buffer: UnsafeRawBufferPointer) -> Bool {
  var offset = 0
  while offset < buffer.count {
    let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
    if written < 0 {
      if errno == EINTR { continue }
      return false
    }
    offset += written
  }
  return true
}
