import Testing

@testable import PullwardenCore

/// kubernetesSecrets settings and kubeconfig reading: every mistake is refused with the key and file.
@Suite struct KubernetesSecretsSourceTests {
  let directory = TemporaryDirectory()

  private func source(_ settings: String) throws -> KubernetesSecretsSource {
    let config = try PullwardenConfig.parse(
      ("sources:\n  - {name: k, type: kubernetesSecrets, matchImages: ['*.example.com'], " + settings + "}\n").bytes,
      path: directory.path + "/config.yaml")
    return try #require(config.sources.first as? KubernetesSecretsSource)
  }

  @Test func readsItsSettings() throws {
    let explicit = try source("server: 'https://10.0.0.1:6443', caFile: ca.pem, secretsAnnotation: pullwarden.dev/pull-secrets, secretNames: [shared, team.pull]")
    #expect(explicit.imagePullSecrets)
    #expect(explicit.secretsAnnotation == "pullwarden.dev/pull-secrets")
    #expect(explicit.secretNames == ["shared", "team.pull"])
    #expect(explicit.http.caFile == directory.path + "/ca.pem")
    #expect(explicit.kubeletTokenAttributes.cacheType == "ServiceAccount")
    #expect(explicit.kubeletTokenAttributes.optionalAnnotationKeys == ["pullwarden.dev/pull-secrets"])
    let inCluster = try source("inCluster: true")
    guard case .inCluster(let caFile) = inCluster.location else { Issue.record("not inCluster"); return }
    #expect(caFile == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")
  }

  @Test(arguments: [
    ("imagePullSecrets: true", ["say where the API server is"]),
    ("server: 'https://a', inCluster: true", ["give only one of \"server\", \"inCluster\" and \"kubeconfig\""]),
    ("server: 'http://10.0.0.1:8080'", ["\"server\"", "https"]),
    ("inCluster: true, kubeconfigContext: x", ["\"kubeconfigContext\" goes with \"kubeconfig\""]),
    ("kubeconfig: kc, caFile: ca.pem", ["\"caFile\" cannot be combined with \"kubeconfig\""]),
    ("inCluster: true, imagePullSecrets: false", ["no Secrets to read"]),
    ("inCluster: true, secretNames: [Bad_Name]", ["\"Bad_Name\" is not a valid Secret name", "secretNames[0]"]),
    ("inCluster: true, secretsAnnotation: 'not a key'", ["\"not a key\" is not a valid annotation key"]),
    ("inCluster: true, username: x", ["unknown key \"username\""]),
    ("inCluster: true, cacheKeyType: Global", ["cacheKeyType Global does not suit"]),
    ("inCluster: true, insecureSkipTLSVerify: true", ["unknown key \"insecureSkipTLSVerify\""]),
  ])
  func refusesBadSettings(settings: String, fragments: [String]) {
    expectError(.config, containing: fragments + ["config.yaml"]) { _ = try source(settings) }
  }

  private func cluster(_ kubeconfig: String, context: String? = nil) throws -> Kubeconfig.Cluster {
    let path = directory.write("kube/config", kubeconfig)
    return try Kubeconfig.cluster(path: path, context: context, source: "k")
  }

  private let twoClusters = """
    apiVersion: v1
    kind: Config
    current-context: b
    clusters:
    - {name: one, cluster: {server: 'https://one.example:6443', certificate-authority: certs/ca.pem}}
    - {name: two, cluster: {server: 'https://two.example', certificate-authority-data: LS0tLS1CRUdJTg==}}
    contexts:
    - {name: a, context: {cluster: one, user: u}}
    - {name: b, context: {cluster: two, user: u}}
    users:
    - {name: u, user: {token: never-read}}
    """

  @Test func readsTheContextsCluster() throws {
    let current = try cluster(twoClusters)
    #expect(current.server.text == "https://two.example")
    #expect(current.caData == Array("-----BEGIN".utf8))
    let named = try cluster(twoClusters, context: "a")
    #expect(named.server.text == "https://one.example:6443")
    #expect(named.caFile == directory.path + "/kube/certs/ca.pem")
  }

  @Test(arguments: [
    ("clusters: []\ncontexts: []\n", nil as String?, ["no context given and no \"current-context\""]),
    ("current-context: x\ncontexts: []\n", nil, ["no context named \"x\""]),
    ("contexts: [{name: a, context: {cluster: c}}]\nclusters: []\n", "a", ["no cluster named \"c\" (used by context \"a\")"]),
    ("contexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://s', insecure-skip-tls-verify: true}}]\n", "a", ["insecure-skip-tls-verify is set"]),
    ("contexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://s', tls-server-name: other}}]\n", "a", ["\"tls-server-name\" is not supported"]),
    ("contexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'https://s', certificate-authority-data: '!!'}}]\n", "a", ["\"certificate-authority-data\" is not base64"]),
    ("contexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {server: 'http://s'}}]\n", "a", ["server", "https"]),
  ])
  func refusesUnusableKubeconfigs(text: String, context: String?, fragments: [String]) {
    expectError(.source, containing: fragments + ["kube/config"]) { _ = try cluster(text, context: context) }
  }

  @Test func kubeconfigErrorsNeverQuoteItsSecrets() {
    do {
      _ = try cluster("users: [{name: u, user: {token: SECRET-TOKEN-VALUE}]\ncontexts: [", context: "a")
      Issue.record("expected an error")
    } catch {
      #expect(!"\(error)".contains("SECRET-TOKEN-VALUE"))
    }
  }

  @Test(arguments: [
    ("registry-pull", true), ("a", true), ("team.pull-1", true), ("0abc", true),
    ("", false), ("Upper", false), ("under_score", false), ("-start", false), ("end-", false), ("a/b", false), ("..", false),
  ])
  func kubernetesNames(name: String, valid: Bool) {
    #expect(isKubernetesName(name) == valid)
  }
}
