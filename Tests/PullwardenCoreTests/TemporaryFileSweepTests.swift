#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PullwardenCore

/// Step 7 §2: `records gc` sweeps the temporary files a crash leaves in every Pullwarden directory
/// (the Secret-files index too), and never one a live writer may still rename. Modification times are
/// set explicitly and `now` is given, so nothing depends on the clock.
@Suite struct TemporaryFileSweepTests {
  let directory = TemporaryDirectory()
  var root: String { directory.path + "/records" }
  let now = Timestamp(secondsSinceEpoch: 1_735_084_800)

  /// Writes `name` with its modification time `age` before `now`.
  @discardableResult
  private func leave(_ name: String, age: GoDuration) -> String {
    let path = directory.write("records/" + name, "partial", mode: 0o600)
    let seconds = Int(now.adding(.zero - age).secondsSinceEpoch)
    var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
    #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
    return path
  }

  @Test func temporaryFileNamesAreReplaceFilesOwn() {
    for name in [".sha256-ab.12.0.tmp", ".secret-files-0f.4242.17.tmp", ".a.b.1.2.tmp"] {
      #expect(FileIO.isTemporaryFileName(name), "\(name)")
    }
    for name in ["sha256-ab", ".sha256-ab.tmp", ".sha256-ab.1.tmp", ".1.2.tmp", "..1.2.tmp", ".x.1.a.tmp", ".x.1.2.tmp~", "x.1.2.tmp", ".tmp"] {
      #expect(!FileIO.isTemporaryFileName(name), "\(name)")
    }
  }

  /// The crash loop left 1,718 of these in pullwarden-index/, which nothing ever removed.
  @Test func staleTemporaryFilesGoFromEveryPullwardenDirectory() throws {
    let stale = GoDuration.hours(2)
    var expected: [String] = []
    for sub in ["pulled", "pulling", "pullwarden-expiry", "pullwarden-locks", "pullwarden-index", "pullwarden-future"] {
      expected.append(leave("\(sub)/.sha256-\(sub).4242.1.tmp", age: stale))
    }
    expected.append(leave("pullwarden-index/.secret-files-0123456789abcdef.99.7.tmp", age: stale))
    // Where replaceFile writes them now: each directory's .pullwarden-tmp/ folder.
    for sub in ["pulled", "pullwarden-index"] {
      expected.append(leave("\(sub)/\(FileIO.temporaryDirectoryName)/.x-\(sub).4243.2.tmp", age: stale))
    }
    // What stays: a temporary file a writer may still rename, files that are not temporary files,
    // and temporary-looking files outside the store's directories.
    let fresh = leave("pullwarden-index/.secret-files-0123456789abcdef.100.8.tmp", age: .minutes(59))
    let freshInFolder = leave("pulled/\(FileIO.temporaryDirectoryName)/.sha256-live.101.9.tmp", age: .minutes(59))
    let index = leave("pullwarden-index/secret-files-0123456789abcdef", age: stale)
    let intent = leave("pulling/sha256-intent", age: stale)
    let foreign = leave("elsewhere/.x.1.2.tmp", age: stale)
    let kubeletStyle = leave("pulled/.sha256-kubelet.tmp", age: stale)

    let dryRun = try RecordStore(directory: root).removeLeftovers(now: now, dryRun: true)
    #expect(dryRun.sorted() == expected.sorted())
    #expect(expected.allSatisfy { (try? FileIO.status($0)) != nil }, "a dry run removed something")

    let removed = try RecordStore(directory: root).removeLeftovers(now: now, dryRun: false)
    #expect(removed.sorted() == expected.sorted())
    for path in expected { #expect(try FileIO.status(path) == nil, "\(path)") }
    for path in [fresh, freshInFolder, index, intent, foreign, kubeletStyle] { #expect(try FileIO.status(path) != nil, "\(path)") }
    #expect(RecordStore.temporaryFileStaleAfter == .hours(1))
  }

  /// Through the collector, as `records gc` runs it: leftovers are reported, records untouched.
  @Test func gcReportsTheSweptFiles() throws {
    let path = leave("pullwarden-index/.secret-files-0123456789abcdef.99.7.tmp", age: .hours(3))
    _ = system("mkdir -p '\(root)/pulled'")
    let collector = RecordsCollector(olderThan: nil, expired: true, dryRun: false)
    let actions = try collector.run(RecordStore(directory: root), now: now)
    #expect(actions.map(\.kind) == [.leftover])
    #expect(actions.map(\.subject) == [path])
    #expect(collector.text(actions).contains("removed \(path): left behind by a retired record or a crash"))
  }
}
