#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PullwardenCore

/// The cross-invocation credential cache: private files, atomic entries, expiry, and corrupt or
/// unsafe entries ignored with a warning, never a failure.
@Suite struct CredentialCacheTests {
  let directory = TemporaryDirectory()
  let now = Timestamp(secondsSinceEpoch: 1_700_000_000)
  let warnings = WarningLog()

  private func cache(_ keying: CredentialCacheSettings.Keying = .token) -> CredentialCache {
    CredentialCache(settings: CredentialCacheSettings(directory: directory.path + "/cache", keying: keying), diagnostics: warnings.diagnostics)
  }

  private func token(_ uid: String = "uid-1", expires: Int64 = 1_700_003_600) throws -> ServiceAccountToken {
    try ServiceAccountToken(serviceAccountJWT(expires: expires, uid: uid), now: now)
  }

  private func mode(_ path: String) -> mode_t {
    var info = stat()
    stat(path, &info)
    return info.st_mode & 0o777
  }

  @Test func storesPrivateEntriesAndReadsThemBack() throws {
    let cache = cache()
    #expect(cache.prepareDirectory())
    let name = cache.entryName(source: "tokenExchange", sourceName: "x", token: try token(), annotations: [:], identity: ["https://sts/t"])
    #expect(name.utf8.count == 64 + 5 && name.hasSuffix(".json"))
    let credential = ObtainedCredential(password: "access-token", expiresAt: now.adding(.minutes(10)))
    cache.store(credential, as: name, now: now)
    #expect(mode(directory.path + "/cache") == 0o700)
    #expect(mode(directory.path + "/cache/" + name) == 0o600)
    #expect(cache.load(name, now: now) == credential)
    // Within refreshBefore (1m) of the expiry it is no longer used.
    #expect(cache.load(name, now: now.adding(.seconds(545))) == nil)
    #expect(warnings.all.isEmpty)
  }

  @Test func keysSeparateTokensSourcesAndParameters() throws {
    let byToken = cache(.token)
    let a = byToken.entryName(source: "tokenExchange", sourceName: "x", token: try token(), annotations: [:], identity: ["aud-a"])
    #expect(a != byToken.entryName(source: "tokenExchange", sourceName: "x", token: try token(expires: 1_700_003_601), annotations: [:], identity: ["aud-a"]))
    #expect(a != byToken.entryName(source: "tokenExchange", sourceName: "y", token: try token(), annotations: [:], identity: ["aud-a"]))
    #expect(a != byToken.entryName(source: "tokenExchange", sourceName: "x", token: try token(), annotations: [:], identity: ["aud-b"]))
    // Length-prefixed fields: moving text between fields changes the key.
    #expect(
      byToken.entryName(source: "t", sourceName: "x", token: try token(), annotations: [:], identity: ["ab", "c"])
        != byToken.entryName(source: "t", sourceName: "x", token: try token(), annotations: [:], identity: ["a", "bc"]))
    // By service account: a rotated token keeps the entry; another service account (uid) does not.
    let bySA = cache(.serviceAccount)
    let b = bySA.entryName(source: "tokenExchange", sourceName: "x", token: try token(), annotations: ["k": "v"], identity: [])
    #expect(b == bySA.entryName(source: "tokenExchange", sourceName: "x", token: try token(expires: 1_700_009_999), annotations: ["k": "v"], identity: []))
    #expect(b != bySA.entryName(source: "tokenExchange", sourceName: "x", token: try token("uid-2"), annotations: ["k": "v"], identity: []))
    #expect(b != bySA.entryName(source: "tokenExchange", sourceName: "x", token: try token(), annotations: ["k": "w"], identity: []))
  }

  @Test(arguments: ["not json", #"{"version":1,"password":"p"}"#, #"{"version":2,"password":"p","expiresAt":"2030-01-01T00:00:00Z"}"#, #"{"version":1,"password":"","expiresAt":"2030-01-01T00:00:00Z"}"#])
  func ignoresCorruptEntriesWithAWarning(contents: String) throws {
    let cache = cache()
    #expect(cache.prepareDirectory())
    directory.write("cache/entry.json", contents, mode: 0o600)
    #expect(cache.load("entry.json", now: now) == nil)
    #expect(warnings.all == ["ignoring corrupt credential cache entry \(directory.path)/cache/entry.json"])
  }

  @Test func ignoresEntriesOthersCouldHaveWritten() throws {
    let cache = cache()
    #expect(cache.prepareDirectory())
    directory.write("cache/entry.json", #"{"version":1,"password":"p","expiresAt":"2030-01-01T00:00:00Z"}"#, mode: 0o644)
    #expect(cache.load("entry.json", now: now) == nil)
    #expect(warnings.all.first?.contains("not a private regular file") == true)
  }

  @Test func refusesADirectoryOthersCanRead() {
    _ = system("mkdir -m 755 '\(directory.path)/cache'")
    #expect(!cache().prepareDirectory())
    #expect(warnings.all == ["credential cache not used: \(directory.path)/cache must be a directory of this user with mode 0700 (found mode 0755)"])
  }

  @Test func credentialsWithoutExpiryOrNearlyExpiredAreNotStored() throws {
    let cache = cache()
    #expect(cache.prepareDirectory())
    cache.store(ObtainedCredential(password: "p", expiresAt: nil), as: "a.json", now: now)
    cache.store(ObtainedCredential(password: "p", expiresAt: now.adding(.seconds(30))), as: "b.json", now: now)
    #expect(try FileIO.directoryEntries(directory.path + "/cache").isEmpty)
  }

  @Test func pruningRemovesExpiredEntries() throws {
    let cache = cache()
    #expect(cache.prepareDirectory())
    cache.store(ObtainedCredential(password: "p", expiresAt: now.adding(.minutes(5))), as: "short.json", now: now)
    cache.store(ObtainedCredential(password: "p", expiresAt: now.adding(.hours(5))), as: "long.json", now: now)
    cache.prune(now: now.adding(.minutes(10)))
    #expect(try FileIO.directoryEntries(directory.path + "/cache") == ["long.json"])
  }
}
