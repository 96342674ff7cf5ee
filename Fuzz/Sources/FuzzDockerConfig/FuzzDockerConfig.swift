import FuzzSupport
@testable import PullwardenCore

@_cdecl("FuzzDockerConfig_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, test) }

/// A docker config (`config.json`, `.dockercfg`, a Secret's `.dockerconfigjson`), read in each
/// format; every usable key is matched against a few images. Invariant: errors are one line.
let images = ["registry.example.com/team/app", "docker.io/library/nginx", "quay.io/team/app", "localhost:5000/a"]
  .map { URLLocation($0) }

@_cdecl("LLVMFuzzerTestOneInput")
func test(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let document: Document
  do {
    document = Document(name: "/etc/docker/config.json", kind: .source, root: try JSON.parse(bytes(data, size), document: "config.json", kind: .source))
  } catch {
    requireOneLine(error.description, "JSON error")
    return 0
  }
  for format in [nil, DockerConfig.Format.configJSON, .dockercfg] {
    do {
      let config = try DockerConfig.parse(document, format: format)
      for entry in config.entries {
        require(!(entry.credential.username.isEmpty && entry.credential.password.isEmpty), "an entry without credentials was kept")
        guard let key = entry.key else { continue }
        for image in images { _ = key.matches(image) }
      }
    } catch {
      requireOneLine(error.description, "docker config error")
    }
  }
  return 0
}
