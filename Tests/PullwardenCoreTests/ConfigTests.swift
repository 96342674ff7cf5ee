import Testing

@testable import PullwardenCore

/// Config validation: every error names the file, the key and the problem.
@Suite struct ConfigTests {
  private func load(_ yaml: String) throws -> PullwardenConfig {
    try PullwardenConfig.parse(yaml.bytes, path: "/etc/pullwarden/config.yaml")
  }

  private let validSource = """
    sources:
      - name: node
        type: dockerConfig
        matchImages: ["*.example.com"]
        path: docker.json
    """

  @Test func appliesDefaultsAndResolvesPaths() throws {
    let config = try load(validSource)
    #expect(config.recordsDirectory == "/var/lib/pullwarden")
    #expect(config.defaultCacheDuration == .minutes(5))
    #expect(config.missCacheDuration == .seconds(30))
    let source = try #require(config.sources.first as? DockerConfigSource)
    #expect(source.path == "/etc/pullwarden/docker.json")
    #expect(source.common.cacheKeyType == .image)
    #expect(source.common.cacheDuration == .minutes(5))
  }

  @Test func readsEverySetting() throws {
    let config = try load("""
      apiVersion: pullwarden.dev/v1alpha1
      kind: PullwardenConfig
      recordsDir: records
      defaultCacheDuration: 10m
      missCacheDuration: 5s
      sources:
        - name: team-secrets
          type: secretFiles
          matchImages: ["registry.example.com/team"]
          directory: /srv/secrets
          cacheDuration: 1h30m
        - name: node
          type: dockerConfig
          matchImages: ["*.example.com", "registry.local:5000"]
          path: /root/.docker/config.json
          format: config.json
          cacheKeyType: Registry
      """)
    #expect(config.recordsDirectory == "/etc/pullwarden/records")
    #expect(config.missCacheDuration == .seconds(5))
    #expect(config.sources.map(\.common.name) == ["team-secrets", "node"])
    #expect(config.sources[0].common.cacheDuration == GoDuration(nanoseconds: 5_400_000_000_000))
    #expect((config.sources[0] as? SecretFilesSource)?.directory == "/srv/secrets")
    #expect(config.sources[1].common.cacheKeyType == .registry)
    #expect(config.sources[1].common.cacheDuration == .minutes(10))
  }

  @Test(arguments: [
    ("recordDir: x\n", ["unknown key \"recordDir\"", "did you mean \"recordsDir\"", "/etc/pullwarden/config.yaml:1:1"]),
    ("apiVersion: v2\n", ["unsupported apiVersion \"v2\""]),
    ("kind: Other\n", ["unsupported kind"]),
    ("defaultCacheDuration: 5\n", ["\"defaultCacheDuration\" must be a duration such as \"5m\"", "found number"]),
    ("defaultCacheDuration: '5'\n", ["\"defaultCacheDuration\"", "invalid duration \"5\""]),
    ("defaultCacheDuration: 5x\n", ["unknown unit \"x\""]),
    ("missCacheDuration: -1s\n", ["\"missCacheDuration\" must not be negative"]),
    ("recordsDir: ''\n", ["\"recordsDir\" must not be empty"]),
  ])
  func rejectsBadTopLevelSettings(prefix: String, fragments: [String]) {
    expectError(.config, containing: fragments + ["/etc/pullwarden/config.yaml"]) { _ = try load(prefix + validSource) }
  }

  @Test(arguments: [
    ("- {type: dockerConfig, matchImages: [a.io], path: p}", ["missing required field \"name\"", "sources[0]"]),
    ("- {name: 'bad name', type: dockerConfig, matchImages: [a.io], path: p}", ["source name \"bad name\""]),
    ("- {name: a, type: dockerconfig, matchImages: [a.io], path: p}", ["unknown source type \"dockerconfig\"", "did you mean \"dockerConfig\"", "at sources[0].type"]),
    ("- {name: a, type: dockerConfig, path: p}", ["missing required field \"matchImages\""]),
    ("- {name: a, type: dockerConfig, matchImages: [], path: p}", ["\"matchImages\" is empty"]),
    ("- {name: a, type: dockerConfig, matchImages: [a.io, 'https://b.io'], path: p}", ["invalid pattern \"https://b.io\"", "at sources[0].matchImages[1]"]),
    ("- {name: a, type: dockerConfig, matchImages: [a.io], path: p, directory: d}", ["unknown key \"directory\"", "at sources[0].directory"]),
    ("- {name: a, type: dockerConfig, matchImages: [a.io]}", ["missing required field \"path\""]),
    ("- {name: a, type: dockerConfig, matchImages: [a.io], path: p, format: toml}", ["unknown format \"toml\""]),
    ("- {name: a, type: secretFiles, matchImages: [a.io]}", ["missing required field \"directory\""]),
    ("- {name: a, type: dockerConfig, matchImages: [a.io], path: p, cacheKeyType: registry}", ["unknown cacheKeyType \"registry\"", "case-sensitive"]),
    ("- {name: a, type: dockerConfig, matchImages: [a.io], path: p, cacheKeyType: Token}", ["tokenAttributes.cacheType"]),
    ("- {name: a, type: dockerConfig, matchImages: [a.io/team], path: p, cacheKeyType: Registry}", ["cacheKeyType Registry", "\"a.io/team\""]),
    ("- {name: a, type: dockerConfig, matchImages: [a.io], path: p, cacheDuration: -5m}", ["\"cacheDuration\" must not be negative"]),
    ("- {name: a, type: dockerConfig, matchImages: a.io, path: p}", ["\"matchImages\" must be a list, found string"]),
    ("- {name: a, type: dockerConfig, matchImages: [a.io], path: p}\n  - {name: a, type: dockerConfig, matchImages: [b.io], path: q}", ["duplicate source name \"a\"", "sources[1]"]),
    ("- just-a-string", ["\"sources\" items must be objects"]),
  ])
  func rejectsBadSources(entry: String, fragments: [String]) {
    expectError(.config, containing: fragments + ["/etc/pullwarden/config.yaml"]) { _ = try load("sources:\n  " + entry + "\n") }
  }

  @Test func rejectsMissingOrEmptySources() {
    expectError(.config, containing: ["missing required field \"sources\""]) { _ = try load("recordsDir: /x\n") }
    expectError(.config, containing: ["\"sources\" is empty"]) { _ = try load("sources: []\n") }
    expectError(.config, containing: ["file is empty"]) { _ = try load("") }
    expectError(.config, containing: ["config must be a JSON object"]) { _ = try load("- a\n") }
  }

  @Test func acceptsJSON() throws {
    let config = try PullwardenConfig.parse(
      #"{"sources":[{"name":"n","type":"dockerConfig","matchImages":["a.io"],"path":"/d.json"}]}"#.bytes, path: "/c.json")
    #expect(config.sources.count == 1)
  }

  @Test func missingFileIsAConfigError() {
    expectError(.config, containing: ["cannot read config", "/nonexistent/config.yaml", "No such file"]) {
      _ = try PullwardenConfig.load(path: "/nonexistent/config.yaml")
    }
  }
}
