import Foundation
import Testing

/// `pullwarden lint` through the real binary, for what golden fixtures cannot hold: FIFOs and
/// symbolic links, and the exit status when findings and unreadable input meet.
@Suite struct LintEndToEndTests {
  let scratch: Scratch

  init() throws {
    scratch = try Scratch()
  }

  static let pod = "kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: nginx}]\n"

  /// A FIFO with no writer would block a plain open for ever: named on the command line it is an
  /// error at once, inside a directory it is skipped with a warning, and the other files are linted.
  @Test func fifosNeverBlock() throws {
    try scratch.write("dir/a.yaml", Self.pod)
    #expect(mkfifo(scratch.path + "/dir/pipe.yaml", 0o600) == 0)
    #expect(mkfifo(scratch.path + "/pipe.json", 0o600) == 0)
    #expect(symlink(scratch.path + "/dir", scratch.path + "/dir/loop") == 0)
    let result = try Pullwarden.run(["lint", "pipe.json", "dir"], in: scratch.path, timeout: 30)
    #expect(!result.timedOut)
    #expect(result.status == 2, "\(result.stderr)")
    #expect(result.stdout.hasPrefix("dir/a.yaml:4:33: latest-tag-without-policy: "), "\(result.stdout)")
    #expect(result.stderr.contains("pullwarden: cannot read pipe.json: expected a regular file, found a FIFO"))
    #expect(result.stderr.contains("pullwarden: warning: skipped \"dir/pipe.yaml\": not a regular file"))
  }

  @Test func exitStatusOrder() throws {
    try scratch.write("clean.yaml", "kind: Pod\nspec:\n  containers: [{image: \"nginx:1\"}]\n")
    try scratch.write("finding.yaml", Self.pod)
    #expect(try Pullwarden.run(["lint", "clean.yaml"], in: scratch.path).status == 0)
    #expect(try Pullwarden.run(["lint", "clean.yaml", "finding.yaml"], in: scratch.path).status == 1)
    #expect(try Pullwarden.run(["lint", "finding.yaml", "missing.yaml"], in: scratch.path).status == 2)
    #expect(try Pullwarden.run(["lint", "-", "-"], stdin: Self.pod, in: scratch.path).status == 64)
    let badConfig = try Pullwarden.run(["lint", "clean.yaml", "--config", "nope.yaml"], in: scratch.path)
    #expect(badConfig.status == 2)
    #expect(badConfig.stdout.isEmpty)
  }
}
