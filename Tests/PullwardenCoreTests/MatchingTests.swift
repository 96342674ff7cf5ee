import Testing

@testable import PullwardenCore

/// The kubelet's URLsMatch rules (keyring_test.go TestUrlsMatch and the spec's §3.2 examples).
@Suite struct MatchingTests {
  @Test(arguments: [
    // No path.
    ("*.kubernetes.io", "prefix.kubernetes.io", true),
    ("prefix.*.io", "prefix.kubernetes.io", true),
    ("prefix.kubernetes.*", "prefix.kubernetes.io", true),
    ("*-good.kubernetes.io", "prefix-good.kubernetes.io", true),
    // Paths are plain prefixes.
    ("*.kubernetes.io/blah", "prefix.kubernetes.io/blah", true),
    ("prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", true),
    ("registry.io/foo", "registry.io/foobar", true),
    ("registry.io/foo/bar", "registry.io/foo", false),
    // Ports must be equal, including both absent.
    ("*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", true),
    ("prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", true),
    ("*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", false),
    ("prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", false),
    ("registry.io", "registry.io:5000/x", false),
    ("registry.io:5000", "registry.io/x", false),
    // Label counts must be equal; a glob never crosses a dot.
    ("*.kubernetes.io", "kubernetes.io", false),
    ("*.*.kubernetes.io", "prefix.kubernetes.io", false),
    ("*.*.kubernetes.io", "kubernetes.io", false),
    ("*.io", "a.k8s.io", false),
    ("*", "localhost/app", true),
    ("*.*", "registry.io/app", true),
    // Label mismatches.
    ("kubernetes.io", "kubernetes.com", false),
    ("k*.io", "quay.io", false),
    ("app*.k8s.io", "app1.k8s.io/x", true),
    ("k8s.*", "k8s.io/x", true),
    // A character class in a host: Go's url.Parse (1.24.8 / 1.25.2 and later) rejects "[" there
    // unless it opens an IPv6 literal, so current kubelets never match it.
    ("reg[0-9].io", "reg7.io/x", false),
    ("reg[^0-9].io", "reg7.io/x", false),
    // url.Parse reads "?" as the start of a query: the host is "reg", one label.
    ("reg?.io", "reg7.io/x", false),
    ("reg?.io", "reg/x", true),
    // Case-sensitive.
    ("Registry.io", "registry.io/x", false),
    // Docker Hub images arrive as docker.io/...
    ("docker.io", "docker.io/library/nginx", true),
    ("index.docker.io", "docker.io/library/nginx", false),
  ])
  func urlsMatch(pattern: String, image: String, expected: Bool) {
    #expect(ImagePattern(unvalidated: pattern).matches(image) == expected)
  }

  @Test(arguments: [
    ("", "empty"),
    ("https://registry.io", "scheme"),
    ("registry.io/*", "glob"),
    ("*.myregistry.io/*", "glob"),
    ("registry.io:abc", "not a number"),
    ("reg[a-z].io:5000", "port"),
    ("reg[0-9].io", "URL parsing"),
    ("registry .io", "white space"),
    ("registry\t.io", "white space"),
    ("registry\u{A0}.io", "white space"),
    ("registry\u{2003}.io", "white space"),
    ("registry.io?x", "\"?\""),
    ("reg[a-.io", "character class"),
    ("user@registry.io", "\"@\""),
    ("a..b", "empty DNS label"),
    ("/path", "no registry host"),
  ])
  func refusesPatternsThatCannotMatch(pattern: String, reasonFragment: String) {
    #expect {
      try ImagePattern(parsing: pattern)
    } throws: { error in
      (error as? ImagePattern.ParseError)?.reason.contains(reasonFragment) == true
    }
  }

  @Test func globsFollowFilepathMatch() {
    #expect(Glob.matches("*", "anything"))
    #expect(!Glob.matches("*", "a/b"))
    #expect(Glob.matches("a\\*b", "a*b"))
    #expect(!Glob.matches("a\\*b", "axb"))
    #expect(Glob.matches("[a-c]x", "bx"))
    #expect(Glob.matches("[\\]]", "]"))
    #expect(!Glob.matches("[", "["))
    #expect(Glob.validate("[") != nil)
    #expect(Glob.validate("[]") != nil)
    #expect(Glob.validate("a\\") != nil)
    #expect(Glob.validate("[a-z]*?") == nil)
  }

  /// Go's path/filepath match_test.go table (matchTests): (pattern, name, matched, ErrBadPattern).
  @Test(arguments: [
    ("abc", "abc", true, false), ("*", "abc", true, false), ("*c", "abc", true, false), ("a*", "a", true, false),
    ("a*", "abc", true, false), ("a*", "ab/c", false, false), ("a*/b", "abc/b", true, false),
    ("a*/b", "a/c/b", false, false), ("a*b*c*d*e*/f", "axbxcxdxe/f", true, false),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true, false), ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false), ("a*b?c*x", "abxbbxdbxebxczzx", true, false),
    ("a*b?c*x", "abxbbxdbxebxczzy", false, false), ("ab[c]", "abc", true, false), ("ab[b-d]", "abc", true, false),
    ("ab[e-g]", "abc", false, false), ("ab[^c]", "abc", false, false), ("ab[^b-d]", "abc", false, false),
    ("ab[^e-g]", "abc", true, false), ("a\\*b", "a*b", true, false), ("a\\*b", "ab", false, false),
    ("a?b", "a☺b", true, false), ("a[^a]b", "a☺b", true, false), ("a???b", "a☺b", false, false),
    ("a[^a][^a][^a]b", "a☺b", false, false), ("[a-ζ]*", "α", true, false), ("*[a-ζ]", "A", false, false),
    ("a?b", "a/b", false, false), ("a*b", "a/b", false, false), ("[\\]a]", "]", true, false),
    ("[\\-]", "-", true, false), ("[x\\-]", "x", true, false), ("[x\\-]", "-", true, false),
    ("[x\\-]", "z", false, false), ("[\\-x]", "x", true, false), ("[\\-x]", "-", true, false),
    ("[\\-x]", "a", false, false), ("[]a]", "]", false, true), ("[-]", "-", false, true), ("[x-]", "x", false, true),
    ("[x-]", "-", false, true), ("[x-]", "z", false, true), ("[-x]", "x", false, true), ("[-x]", "-", false, true),
    ("[-x]", "a", false, true), ("\\", "a", false, true), ("[a-b-c]", "a", false, true), ("[", "a", false, true),
    ("[^", "a", false, true), ("[^bc", "a", false, true), ("a[", "a", false, true), ("a[", "ab", false, true),
    ("a[", "x", false, true), ("a/b[", "x", false, true), ("*x", "xxx", true, false),
    // A class, unlike ? and *, does not exclude the separator in Go.
    ("a[^x]b", "a/b", true, false),
    // A star that skips into the middle of a multi-byte character: Go decodes the stray byte as U+FFFD.
    ("*[\u{FFFD}]", "é", true, false),
  ])
  func globIsGoFilepathMatch(pattern: String, name: String, matched: Bool, badPattern: Bool) {
    var steps = 0
    let result = Result { () throws(Glob.BadPattern) in try Glob.match(pattern, name, steps: &steps) }
    switch result {
    case .success(let value):
      #expect(!badPattern, "expected ErrBadPattern")
      #expect(value == matched)
    case .failure:
      #expect(badPattern, "unexpected ErrBadPattern")
    }
    #expect(Glob.matches(pattern, name) == (matched && !badPattern))
  }

  /// A tenant's registry key cannot pin the CPU: Go's algorithm does at most about one pass over the
  /// name per pattern byte, where the old backtracking matcher tried every way to place ten stars
  /// (C(63, 10) ≈ 10^11 for this pair: hours).
  @Test func starsDoNotBacktrack() {
    let pattern = String(repeating: "*a", count: 10) + "b"
    let label = String(repeating: "a", count: 63)
    var steps = 0
    #expect((try? Glob.match(pattern, label, steps: &steps)) == false)
    #expect(steps <= (pattern.utf8.count + 1) * (label.utf8.count + 1), "\(steps) steps")

    // The same through the keyring: a registry key against an image on a 63-character host label.
    let key = RegistryKey(normalizing: pattern + ".example.com")
    #expect(key?.matches(URLLocation(label + ".example.com/app")) == false)
  }

  /// keyring.go's key normalization: scheme dropped, /v1/ and /v2/ cut back to the host.
  @Test(arguments: [
    ("https://quay.io/v1/", "quay.io"),
    ("https://quay.io/v2/", "quay.io"),
    ("http://registry.io:5000", "registry.io:5000"),
    ("registry.io/team", "registry.io/team"),
    ("registry.io/", "registry.io"),
    ("https://*.docker.io/path:1111", "*.docker.io/path:1111"),
    ("https://index.docker.io/v1/", "docker.io"),
    ("index.docker.io", "docker.io"),
  ])
  func normalizesRegistryKeys(raw: String, key: String) {
    #expect(RegistryKey(normalizing: raw)?.text == key)
  }

  /// keyring_test.go TestDockerKeyringForGlob: each key finds `target/foo/bar`.
  @Test(arguments: [
    ("https://hello.kubernetes.io", "hello.kubernetes.io"),
    ("https://*.docker.io", "prefix.docker.io"),
    ("https://prefix.*.io", "prefix.docker.io"),
    ("https://prefix.docker.*", "prefix.docker.io"),
    ("https://*.docker.io/path", "prefix.docker.io/path"),
    ("https://prefix.*.io/path", "prefix.docker.io/path/subpath"),
    ("https://*.docker.io:8888", "prefix.docker.io:8888"),
    ("https://*.docker.io/path:1111", "prefix.docker.io/path:1111"),
    ("https://*.docker.io/v1/", "prefix.docker.io/path:1111"),
    ("https://*.docker.io/v2/", "prefix.docker.io/path:1111"),
    ("prefix.docker.io:1111", "prefix.docker.io:1111/path"),
    ("*.docker.io:1111", "prefix.docker.io:1111/path"),
  ])
  func keysFindTheirImages(raw: String, target: String) throws {
    let key = try #require(RegistryKey(normalizing: raw))
    #expect(key.matches(URLLocation(target + "/foo/bar")))
  }

  /// keyring_test.go TestKeyringMiss.
  @Test(arguments: [
    ("https://hello.kubernetes.io", "world.mesos.org/foo/bar"),
    ("https://*.docker.com", "prefix.docker.io"),
    ("https://suffix.*.io", "prefix.docker.io"),
    ("https://prefix.docker.c*", "prefix.docker.io"),
    ("https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111"),
  ])
  func keysMissOtherImages(raw: String, target: String) throws {
    let key = try #require(RegistryKey(normalizing: raw))
    #expect(!key.matches(URLLocation(target + "/foo/bar")))
  }
}
