import Testing

@testable import PullwardenCore

/// Strict decoding of CredentialProviderRequest.
@Suite struct RequestTests {
  @Test(arguments: ProtocolVersion.allCases)
  func acceptsEveryProtocolVersion(version: ProtocolVersion) throws {
    let request = try CredentialProviderRequest.decode(requestJSON(image: "registry.io/app", version: version.rawValue).bytes)
    #expect(request.apiVersion == version)
    #expect(request.reference.name == "registry.io/app")
  }

  @Test func readsTokenAndAnnotationsAndIgnoresUnknownFields() throws {
    let request = try CredentialProviderRequest.decode(
      requestJSON(image: "registry.io/app", extra: #","serviceAccountToken":"t.o.k","serviceAccountAnnotations":{"a":"b"},"futureField":{"x":1}"#).bytes)
    #expect(request.serviceAccountToken == "t.o.k")
    #expect(request.serviceAccountAnnotations == ["a": "b"])
  }

  @Test(arguments: [
    ("", ["no request"]),
    ("   \n", ["no request"]),
    ("[]", ["request must be a JSON object", "found array"]),
    (#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"a"}"#, ["missing \"kind\""]),
    (#"{"kind":"Other","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"a"}"#, ["unsupported kind \"Other\"", "at kind"]),
    (#"{"kind":"CredentialProviderRequest","image":"a"}"#, ["missing \"apiVersion\""]),
    (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v2","image":"a"}"#, ["unsupported apiVersion", "v2"]),
    (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}"#, ["missing required field \"image\""]),
    (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":""}"#, ["\"image\" is empty"]),
    (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":7}"#, ["\"image\" must be a string, found number"]),
    (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":null}"#, ["\"image\" must be a string, found null"]),
    (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"Bad/Name"}"#, ["invalid image", "lowercase"]),
    (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"a","serviceAccountToken":5}"#, ["\"serviceAccountToken\" must be a string"]),
    (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"a","serviceAccountAnnotations":{"k":1}}"#, ["values must be strings", "\"k\""]),
    (#"{"kind":1,"apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"a"}"#, ["\"kind\" must be a string"]),
  ])
  func rejectsBadRequests(text: String, fragments: [String]) {
    expectError(.request, containing: fragments + ["stdin"]) { _ = try CredentialProviderRequest.decode(text.bytes) }
  }

  @Test func refusesOversizedInput() {
    let big = [UInt8](repeating: 0x20, count: CredentialProviderRequest.sizeLimit + 1)
    expectError(.request, containing: ["larger than 1 MiB"]) { _ = try CredentialProviderRequest.decode(big) }
  }

  @Test func errorsNeverEchoTheToken() {
    let text = #"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"BAD","serviceAccountToken":"eyJsecret"}"#
    do {
      _ = try CredentialProviderRequest.decode(text.bytes)
    } catch {
      #expect(!error.description.contains("eyJsecret"))
    }
  }
}

@Suite struct ResponseTests {
  @Test func encodesKubeletFieldOrderOnOneLine() {
    let response = CredentialProviderResponse(
      apiVersion: .v1beta1, cacheKeyType: .registry, cacheDuration: .minutes(5),
      auth: [("registry.io", RegistryCredential(username: "u", password: "p", email: "not-on-the-wire"))])
    #expect(
      String(decoding: response.encoded(), as: UTF8.self)
        == #"{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","cacheKeyType":"Registry","cacheDuration":"5m0s","auth":{"registry.io":{"username":"u","password":"p"}}}"# + "\n")
  }

  @Test func noCredentialsIsNullAuth() {
    let response = CredentialProviderResponse(apiVersion: .v1, cacheKeyType: .image, cacheDuration: .seconds(30), auth: [])
    #expect(String(decoding: response.encoded(), as: UTF8.self).contains(#""cacheDuration":"30s","auth":null}"#))
  }
}
