import Testing

@testable import PullwardenCore

/// Normalization as docker's ParseNormalizedNamed + Name(), which the kubelet applies before calling us.
@Suite struct ImageReferenceTests {
  @Test(arguments: [
    ("nginx", "docker.io/library/nginx"),
    ("nginx:1.25", "docker.io/library/nginx"),
    ("library/nginx", "docker.io/library/nginx"),
    ("docker.io/nginx", "docker.io/library/nginx"),
    ("index.docker.io/team/app", "docker.io/team/app"),
    ("docker.io/library/nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "docker.io/library/nginx"),
    ("team/app:v1", "docker.io/team/app"),
    ("registry.example.com/team/app", "registry.example.com/team/app"),
    ("registry.example.com:5000/team/app:v1", "registry.example.com:5000/team/app"),
    ("localhost/app", "localhost/app"),
    ("localhost:5000/app", "localhost:5000/app"),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app"),
    ("Registry.Example.com/app", "Registry.Example.com/app"),
    ("quay.io/a__b/c.d-e--f/g_h", "quay.io/a__b/c.d-e--f/g_h"),
    ("[::1]:5000/app", "[::1]:5000/app"),
    ("foo:5000", "docker.io/library/foo"),
  ])
  func normalizes(text: String, name: String) throws {
    #expect(try ImageReference(parsing: text).name == name)
  }

  @Test func keepsTagAndDigest() throws {
    // go-digest requires a sha256 digest to have exactly 64 lower-case hex digits.
    let reference = try ImageReference(parsing: "registry.example.com:5000/app:v1.2@sha256:" + String(repeating: "0123456789abcdef", count: 4))
    #expect(reference.domain == "registry.example.com:5000")
    #expect(reference.path == "app")
    #expect(reference.tag == "v1.2")
    #expect(reference.digest == "sha256:" + String(repeating: "0123456789abcdef", count: 4))
  }

  @Test(arguments: [
    "", "Nginx", "docker.io/Team/app", "registry.example.com/", "registry.example.com//app", "-app", "app-",
    "registry.example.com/app:", "registry.example.com/app:-bad", "registry.example.com/app@sha256:short",
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "http://registry.example.com/app",
    "registry.example.com/a b", "registry_example.com:5000/app", "reg.example.com:port/app",
    "nginx@sha256:0123456789abcdef0123456789abcdef", "nginx@md5:0123456789abcdef0123456789abcdef", "a..b/app",
  ])
  func rejectsInvalidNames(text: String) {
    #expect(throws: ImageReference.ParseError.self) { try ImageReference(parsing: text) }
  }

  @Test func rejectsNamesLongerThan255() {
    let long = "registry.example.com/" + String(repeating: "a", count: 240)
    #expect(throws: ImageReference.ParseError.self) { try ImageReference(parsing: long) }
  }
}
