#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PullwardenCore

/// The secretFiles index: a cache of which registries each Secret file holds, so a provide call
/// parses only the files that concern the image. It must never change an answer.
@Suite struct SecretFilesIndexTests {
  let directory = TemporaryDirectory()

  private func secret(_ name: String, registry: String, user: String, password: String) -> String {
    """
    apiVersion: v1
    kind: Secret
    metadata: {name: \(name), namespace: ns, uid: uid-\(name)}
    type: kubernetes.io/dockerconfigjson
    stringData:
      .dockerconfigjson: '{"auths":{"\(registry)":{"username":"\(user)","password":"\(password)"}}}'
    """
  }

  private func provide(_ image: String, warnings: WarningLog = WarningLog()) throws -> [String] {
    let config = directory.write(
      "config.yaml", "recordsDir: state\nsources: [{name: s, type: secretFiles, matchImages: ['*.io'], directory: secrets}]\n")
    let provider = Provider(config: try PullwardenConfig.load(path: config))
    let request = try CredentialProviderRequest.decode(requestJSON(image: image).bytes)
    let outcome = try provider.provide(
      request, now: Timestamp(secondsSinceEpoch: 1_700_000_000), diagnostics: warnings.diagnostics,
      stateDirectory: directory.path + "/state")
    return outcome.response.auth.map { "\($0.key)=\($0.credential.username):\($0.credential.password)" }
  }

  private var indexPath: String { SecretFilesIndex.path(for: directory.path + "/secrets", in: directory.path + "/state") }

  private func indexText() throws -> String {
    String(decoding: try FileIO.readFile(indexPath, limit: 1 << 20), as: UTF8.self)
  }

  @Test func indexHoldsRegistriesAndIdentitiesNeverCredentials() throws {
    directory.write("secrets/a.yaml", secret("a", registry: "a.io", user: "alice", password: "alice-secret"))
    directory.write("secrets/b.yaml", secret("b", registry: "b.io/team", user: "bob", password: "bob-secret"))
    #expect(try provide("a.io/app") == ["a.io=alice:alice-secret"])
    let text = try indexText()
    #expect(text.hasPrefix("pullwarden secret-files index v1\ndirectory\t\(directory.path)/secrets\n"))
    #expect(text.contains("a.yaml\t") && text.contains("\ta.io\n"))
    #expect(text.contains("b.yaml\t") && text.contains("\tb.io/team\n"))
    #expect(!text.contains("secret") || !text.contains("alice-secret"))
    #expect(!text.contains("alice") && !text.contains("bob"))
    var info = stat()
    #expect(stat(indexPath, &info) == 0 && info.st_mode & 0o777 == 0o600)
    #expect(stat(FileIO.directoryName(indexPath), &info) == 0 && info.st_mode & 0o777 == 0o700)
  }

  @Test func answersFollowEveryKindOfChange() throws {
    directory.write("secrets/a.yaml", secret("a", registry: "a.io", user: "alice", password: "one"))
    directory.write("secrets/b.yaml", secret("b", registry: "b.io", user: "bob", password: "one"))
    #expect(try provide("a.io/app") == ["a.io=alice:one"])
    #expect(try provide("b.io/app") == ["b.io=bob:one"])

    // Rewritten in place with the same size: the identity (mtime/ctime in ns) still changes.
    usleep(2_000)
    directory.write("secrets/a.yaml", secret("a", registry: "a.io", user: "alice", password: "two"))
    #expect(try provide("a.io/app") == ["a.io=alice:two"])

    // A file that moves to another registry stops answering for the old one.
    directory.write("secrets/b.yaml", secret("b", registry: "c.io", user: "bob", password: "one"))
    #expect(try provide("b.io/app") == [])
    #expect(try provide("c.io/app") == ["c.io=bob:one"])

    // New and removed files.
    directory.write("secrets/d.yaml", secret("d", registry: "a.io", user: "dave", password: "one"))
    #expect(try provide("a.io/app") == ["a.io=alice:two", "a.io#2=dave:one"])
    #expect(unlink(directory.path + "/secrets/a.yaml") == 0)
    #expect(try provide("a.io/app") == ["a.io=dave:one"])
    #expect(!(try indexText()).contains("a.yaml"))
  }

  @Test func aFileReplacedByRenameIsNoticed() throws {
    directory.write("secrets/a.yaml", secret("a", registry: "a.io", user: "alice", password: "one"))
    #expect(try provide("a.io/app") == ["a.io=alice:one"])
    directory.write("new.yaml", secret("a", registry: "a.io", user: "alice", password: "two"))
    #expect(rename(directory.path + "/new.yaml", directory.path + "/secrets/a.yaml") == 0)
    #expect(try provide("a.io/app") == ["a.io=alice:two"])
  }

  @Test func corruptOrForeignIndexIsRebuilt() throws {
    directory.write("secrets/a.yaml", secret("a", registry: "a.io", user: "alice", password: "one"))
    _ = try provide("a.io/app")
    for garbage in ["", "pullwarden secret-files index v1\n", "not an index\n", "pullwarden secret-files index v1\ndirectory\t/elsewhere\n",
                    "pullwarden secret-files index v1\ndirectory\t\(directory.path)/secrets\na.yaml\tx\n"] {
      directory.write("state/pullwarden-index/" + indexPath.split(separator: "/").last!, garbage, mode: 0o600)
      #expect(try provide("a.io/app") == ["a.io=alice:one"])
      #expect(try indexText().contains("\ta.io\n"))
    }
  }

  @Test func staleIndexEntryPointingElsewhereCannotHideAChangedFile() throws {
    directory.write("secrets/a.yaml", secret("a", registry: "a.io", user: "alice", password: "one"))
    _ = try provide("a.io/app")
    // Claim (falsely) that a.yaml holds b.io; the identity no longer matches once the file changes,
    // so the file is read again.
    let lines = try indexText().split(separator: "\n").map(String.init)
    let forged = lines.map { $0.hasPrefix("a.yaml\t") ? $0.replacingTail("a.io", with: "b.io") : $0 }.joined(separator: "\n") + "\n"
    directory.write("state/pullwarden-index/" + indexPath.split(separator: "/").last!, forged, mode: 0o600)
    usleep(2_000)
    directory.write("secrets/a.yaml", secret("a", registry: "a.io", user: "alice", password: "two"))
    #expect(try provide("a.io/app") == ["a.io=alice:two"])
  }

  @Test func unwritableStateDirectoryOnlyWarns() throws {
    directory.write("secrets/a.yaml", secret("a", registry: "a.io", user: "alice", password: "one"))
    directory.write("state", "a file where the directory should be")
    let warnings = WarningLog()
    #expect(try provide("a.io/app", warnings: warnings) == ["a.io=alice:one"])
    #expect(warnings.all.contains { $0.contains("cannot update the index") })
  }

  @Test func namesThatCannotBeIndexedAreStillRead() throws {
    directory.write("secrets/tab\tname.yaml", secret("t", registry: "a.io", user: "tab", password: "one"))
    #expect(try provide("a.io/app") == ["a.io=tab:one"])
    #expect(try provide("a.io/app") == ["a.io=tab:one"])
    #expect(!(try indexText()).contains("tab"))
  }
}

extension String {
  fileprivate func replacingTail(_ old: String, with new: String) -> String {
    hasSuffix(old) ? String(dropLast(old.count)) + new : self
  }
}
