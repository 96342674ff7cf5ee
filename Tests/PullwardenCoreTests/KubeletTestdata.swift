#if canImport(Glibc)
import Glibc
#endif

@testable import PullwardenCore

/// The kubelet's pull-manager testdata (pkg/kubelet/images/pullmanager/testdata, 1.35+ form), byte for
/// byte, as the KEP-2535 spec §2 lists it.
enum KubeletTestdata {
  static let prefix = #"{"kind":"ImagePulledRecord","apiVersion":"kubelet.config.k8s.io/v1beta1","lastUpdatedTime":"2024-10-21T12:26:40Z""#

  static let intent = #"{"kind":"ImagePullIntent","apiVersion":"kubelet.config.k8s.io/v1beta1","image":"docker.io/testing/test:latest"}"# + "\n"

  /// imageRef → file content.
  static let pulled: [String: String] = [
    "testimage-anonpull": prefix + #","imageRef":"testimage-anonpull","credentialMapping":{"docker.io/testing/test":{"nodePodsAccessible":true}}}"# + "\n",
    "testimageref": prefix
      + #","imageRef":"testimageref","credentialMapping":{"docker.io/testing/test":{"kubernetesSecrets":[{"uid":"testsecretuid","namespace":"default","name":"pull-secret","credentialHash":"testsecrethash"}]}}}"#
      + "\n",
    "testimageref-sa": prefix
      + #","imageRef":"testimageref-sa","credentialMapping":{"docker.io/testing/test":{"kubernetesServiceAccounts":[{"uid":"test-sa-uid","namespace":"default","name":"test-sa"}]}}}"#
      + "\n",
    "testemptycredmapping": prefix + #","imageRef":"testemptycredmapping"}"# + "\n",
    "test-brokenhash": prefix
      + #","imageRef":"test-brokenhash","credentialMapping":{"docker.io/testing/test":{"kubernetesSecrets":[{"uid":"testsecretuid","namespace":"default","name":"pull-secret","credentialHash":""}]}}}"#
      + "\n",
  ]

  /// The file names the kubelet uses (the spec lists their prefixes).
  static let fileNamePrefixes = [
    "testimage-anonpull": "a2eace21", "testimageref": "b3c0cc42", "testimageref-sa": "917e8b34",
    "testemptycredmapping": "f8778b63", "test-brokenhash": "38a89064",
  ]

  /// Writes the testdata into `directory` as an `image_manager` directory; `version` rewrites the
  /// apiVersion (the alpha-era files differ only there).
  static func install(in directory: TemporaryDirectory, under root: String = "image_manager", version: RecordAPIVersion = .v1beta1, intent withIntent: Bool = false) -> String {
    func adjust(_ text: String) -> String {
      version == .v1beta1 ? text : text.replacing(RecordAPIVersion.v1beta1.rawValue, with: version.rawValue)
    }
    for (imageRef, content) in pulled {
      directory.write("\(root)/pulled/\(RecordStore.fileName(forKey: imageRef))", adjust(content), mode: 0o600)
    }
    if withIntent {
      directory.write("\(root)/pulling/\(RecordStore.fileName(forKey: "docker.io/testing/test:latest"))", adjust(intent), mode: 0o600)
    } else {
      _ = system("mkdir -p '\(directory.path)/\(root)/pulling'")
    }
    return directory.path + "/" + root
  }
}

extension String {
  /// The text of a file, "" when it cannot be read.
  static func contents(of path: String) -> String {
    (try? FileIO.readFile(path, limit: 1 << 22)).map { String(decoding: $0, as: UTF8.self) } ?? ""
  }
}
