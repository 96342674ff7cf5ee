#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where non-fatal notes go (stderr in the executables), so core code never writes to a stream itself.
///
/// The kubelet ignores stderr when the plugin succeeds and appends it to its log when it fails, so a
/// warning must be as free of secrets as an error.
public struct Diagnostics: Sendable {
  private let sink: @Sendable (String) -> Void

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

  public func warn(_ message: String) {
    sink(message)
  }
}

/// Writes the whole buffer, retrying on short writes and EINTR. Returns false on any other error.
@discardableResult
func writeAll(fd: Int32, buffer: UnsafeRawBufferPointer) -> Bool {
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
