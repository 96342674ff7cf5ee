import FuzzSupport
@testable import PullwardenCore

@_cdecl("FuzzSecretFile_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, test) }

/// One Secret file (JSON or YAML: a Secret, a List, several documents) read by a real `secretFiles`
/// source from a scratch directory, for two images, then its Secrets decoded in memory as well.
/// Invariants: a broken file is skipped with a one-line warning, never fails the call or leaks
/// past it; errors are one line.
let directory = scratchDirectory + "/secret-file"
let filePath = directory + "/secrets/fuzz.yaml"

let provider: Provider = {
  makeDirectory(directory + "/secrets")
  writeFile(directory + "/config.yaml", Array(#"""
    sources:
      - name: files
        type: secretFiles
        matchImages: ["*.example.com", "docker.io"]
        directory: secrets
    """#.utf8))
  do {
    return Provider(config: try PullwardenConfig.load(path: directory + "/config.yaml"))
  } catch {
    fatalError("fuzz config does not load: \(error)")
  }
}()

let requests: [CredentialProviderRequest] = ["registry.example.com/team/app", "docker.io/library/nginx"].map { image in
  do {
    return try CredentialProviderRequest.decode(Array(#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"\#(image)"}"#.utf8))
  } catch {
    fatalError("fuzz request does not decode: \(error)")
  }
}

@_cdecl("LLVMFuzzerTestOneInput")
func test(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = bytes(data, size)
  _ = provider  // creates the directory
  writeFile(filePath, input)
  for request in requests {
    do {
      _ = try provider.provide(request, now: fuzzNow, diagnostics: checkedDiagnostics())
    } catch {
      // Only "no credentials" outcomes are acceptable: a broken file is skipped, not fatal.
      requireOneLine(error.description, "provide error")
    }
  }
  // The same parsing, in memory, down to each Secret's docker config.
  do {
    for document in try YAMLLoader.documents(input, name: filePath, kind: .source) {
      for secret in try SecretFilesSource.secrets(in: document, diagnostics: checkedDiagnostics()) {
        _ = try secret.dockerConfig()
      }
    }
  } catch {
    requireOneLine(error.description, "Secret error")
  }
  return 0
}
