import FuzzSupport
@testable import PullwardenCore

@_cdecl("FuzzProvideRequest_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, test) }

/// A CredentialProviderRequest from stdin, answered by a config with a docker config, a Secret
/// files directory and a passthrough source (no network, no records written). Invariants: an
/// answer encodes to JSON that jansson reads back; errors and warnings are one line.
let configPath: String = {
  let directory = scratchDirectory + "/provide"
  makeDirectory(directory + "/secrets")
  writeFile(directory + "/docker-config.json", Array(#"""
    {"auths": {"registry.example.com": {"username": "node", "password": "node-secret"},
               "*.example.com:5000": {"auth": "dXNlcjpwYXNz"},
               "https://index.docker.io/v1/": {"username": "hub", "password": "hub-secret"},
               "quay.io/team": {"username": "quay", "password": "quay-secret"}}}
    """#.utf8))
  writeFile(directory + "/secrets/team-a.yaml", Array(#"""
    apiVersion: v1
    kind: Secret
    type: kubernetes.io/dockerconfigjson
    metadata: {name: team-a-pull, namespace: team-a, uid: 0b6e1c4e-0000-4000-8000-000000000001}
    data:
      .dockerconfigjson: eyJhdXRocyI6eyJyZWdpc3RyeS5leGFtcGxlLmNvbS90ZWFtIjp7InVzZXJuYW1lIjoiYSIsInBhc3N3b3JkIjoiYiJ9fX0=
    """#.utf8))
  writeFile(directory + "/config.yaml", Array(#"""
    recordsDir: records
    sources:
      - name: node
        type: dockerConfig
        matchImages: ["*.example.com", "*.example.com:5000", "docker.io", "quay.io"]
        path: docker-config.json
      - name: files
        type: secretFiles
        matchImages: ["*.example.com", "docker.io"]
        directory: secrets
      - name: pass
        type: passthrough
        matchImages: ["tokens.example.com"]
        username: kubernetes
        tokenAudience: tokens.example.com
    """#.utf8))
  return directory + "/config.yaml"
}()

let provider: Provider = {
  do {
    return Provider(config: try PullwardenConfig.load(path: configPath))
  } catch {
    fatalError("fuzz config does not load: \(error)")
  }
}()

@_cdecl("LLVMFuzzerTestOneInput")
func test(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let request: CredentialProviderRequest
  do {
    request = try CredentialProviderRequest.decode(bytes(data, size))
  } catch {
    requireOneLine(error.description, "request error")
    return 0
  }
  do {
    let outcome = try provider.provide(request, now: fuzzNow, diagnostics: checkedDiagnostics())
    let encoded = outcome.response.encoded()
    do {
      _ = try JSON.parse(encoded, document: "response", kind: .request)
    } catch {
      require(false, "the response is not JSON: \(error)")
    }
  } catch {
    requireOneLine(error.description, "provide error")
  }
  return 0
}
