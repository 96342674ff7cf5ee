#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PullwardenCore

/// A fresh directory under /tmp, removed when the value goes away.
final class TemporaryDirectory {
  let path: String

  init() {
    var template = Array("/tmp/pullwarden-test-XXXXXX".utf8CString)
    let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(created != nil, "mkdtemp failed")
    path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  deinit {
    _ = system("rm -rf '\(path)'")
  }

  /// Writes `contents` to `name` (relative, parent folders created) and returns the full path.
  @discardableResult
  func write(_ name: String, _ contents: String, mode: mode_t = 0o644) -> String {
    let full = path + "/" + name
    let parent = FileIO.directoryName(full)
    _ = system("mkdir -p '\(parent)'")
    let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, mode)
    precondition(fd >= 0, "cannot create \(full)")
    let bytes = Array(contents.utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    close(fd)
    return full
  }
}

extension String {
  var bytes: [UInt8] { Array(utf8) }
}

/// A request as the kubelet would send it.
func requestJSON(image: String, version: String = "credentialprovider.kubelet.k8s.io/v1", extra: String = "") -> String {
  "{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"\(version)\",\"image\":\"\(image)\"\(extra)}"
}

/// Expects `body` to throw a PullwardenError whose description contains every fragment.
func expectError(
  _ kind: PullwardenError.Kind, containing fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () throws -> Void
) {
  do {
    try body()
    Issue.record("expected an error containing \(fragments)", sourceLocation: sourceLocation)
  } catch let error as PullwardenError {
    #expect(error.kind == kind, "kind of \(error)", sourceLocation: sourceLocation)
    for fragment in fragments {
      #expect(error.description.contains(fragment), "\"\(error)\" lacks \"\(fragment)\"", sourceLocation: sourceLocation)
    }
  } catch {
    Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
  }
}
