#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a `kubernetesSecrets` source finds the Kubernetes API server, and which CA it trusts there.
///
/// Authentication is never taken from here: every call carries the request's service-account token as
/// its Bearer token, so the API server authorizes exactly what the pod's service account may do.
enum APIServerLocation: Sendable {
  /// `server` with the CA from `caFile` (or the system store).
  case explicit(HTTPSURL)
  /// The in-cluster service address from `KUBERNETES_SERVICE_HOST`/`_PORT` and the service-account CA.
  case inCluster(caFile: String)
  /// The cluster of a kubeconfig context (its server and CA only; its credentials are ignored).
  case kubeconfig(path: String, context: String?)

  static let inClusterCAFile = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
  static let kubeconfigSizeLimit = 1 << 20

  /// The server URL and the HTTP settings (with its CA) for one provide run.
  func resolve(_ base: HTTPSettings, source: String) throws(PullwardenError) -> (HTTPSURL, HTTPSettings) {
    var http = base
    switch self {
    case .explicit(let server):
      return (server, http)
    case .inCluster(let caFile):
      func variable(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
      }
      guard let host = variable("KUBERNETES_SERVICE_HOST"), let port = variable("KUBERNETES_SERVICE_PORT") else {
        throw PullwardenError(
          .source,
          "inCluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (the kubelet's environment, or its CredentialProviderConfig env, must provide them)",
          at: "source \"\(source)\"")
      }
      let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
      do {
        let server = try HTTPSURL(parsing: "https://" + authority)
        if http.caFile == nil { http.caFile = caFile }
        return (server, http)
      } catch {
        throw PullwardenError(.source, "inCluster: the API server address \(authority) \(error)", at: "source \"\(source)\"")
      }
    case .kubeconfig(let path, let context):
      let cluster = try Kubeconfig.cluster(path: path, context: context, source: source)
      if let caFile = cluster.caFile { http.caFile = caFile }
      if let caData = cluster.caData { http.caData = caData }
      return (cluster.server, http)
    }
  }
}

/// The parts of a kubeconfig Pullwarden uses: a context's cluster server and certificate authority.
enum Kubeconfig {
  struct Cluster {
    var server: HTTPSURL
    var caFile: String?
    var caData: [UInt8]?
  }

  static func cluster(path: String, context wanted: String?, source: String) throws(PullwardenError) -> Cluster {
    let bytes: [UInt8]
    do {
      // It names the API server and the CA trusted for it.
      bytes = try FileIO.readFile(path, limit: APIServerLocation.kubeconfigSizeLimit, trusted: true)
    } catch let untrusted as UntrustedFile {
      throw PullwardenError(.source, untrusted.description, at: "source \"\(source)\"")
    } catch {
      throw PullwardenError(.source, "cannot read kubeconfig: \(error)", at: "source \"\(source)\"")
    }
    // A kubeconfig may hold client keys and tokens: its parse errors name positions, never text. It
    // is read as client-go reads it (YAMLSchema.kubernetes).
    let root = try YAMLLoader.document(bytes, name: path, kind: .source, schema: .kubernetes)
      .rootObject(describedAs: "kubeconfig")
    let current = try root.string("current-context")
    guard let contextName = wanted ?? current, !contextName.isEmpty else {
      throw root.error("no context given and no \"current-context\" (set kubeconfigContext)")
    }
    guard let contextEntry = try named(contextName, in: root.objectArray("contexts") ?? []) else {
      throw root.error("no context named \"\(contextName)\"", at: "contexts")
    }
    guard let context = try contextEntry.object("context") else { throw contextEntry.error("context has no \"context\" field") }
    let clusterName = try context.requiredNonEmptyString("cluster")
    guard let clusterEntry = try named(clusterName, in: root.objectArray("clusters") ?? []) else {
      throw root.error("no cluster named \"\(clusterName)\" (used by context \"\(contextName)\")", at: "clusters")
    }
    guard let cluster = try clusterEntry.object("cluster") else { throw clusterEntry.error("cluster has no \"cluster\" field") }
    if try cluster.bool("insecure-skip-tls-verify") == true {
      throw cluster.error(
        "insecure-skip-tls-verify is set, but Pullwarden always verifies the API server's certificate: give the cluster's CA instead",
        at: "insecure-skip-tls-verify")
    }
    for unsupported in ["tls-server-name", "proxy-url"] where cluster.contains(unsupported) {
      throw cluster.error(
        "\"\(unsupported)\" is not supported (use the server's own name, and https_proxy/no_proxy in the kubelet's environment for a proxy)",
        at: unsupported)
    }
    let serverText = try cluster.requiredNonEmptyString("server")
    let server: HTTPSURL
    do {
      server = try HTTPSURL(parsing: serverText)
    } catch {
      throw cluster.error("server \(error)", at: "server")
    }
    var result = Cluster(server: server)
    if let file = try cluster.string("certificate-authority"), !file.isEmpty {
      result.caFile = FileIO.resolve(file, relativeTo: FileIO.directoryName(path))
    }
    if let data = try cluster.string("certificate-authority-data"), !data.isEmpty {
      // A []byte field, which client-go decodes with base64.StdEncoding: padding is required.
      guard let pem = Base64.decode(data, padding: .required) else {
        throw cluster.error("\"certificate-authority-data\" is not base64", at: "certificate-authority-data")
      }
      result.caData = pem
    }
    return result
  }

  /// The entry of a kubeconfig list (`contexts`, `clusters`) with this `name`.
  private static func named(_ name: String, in entries: [ObjectReader]) throws(PullwardenError) -> ObjectReader? {
    for entry in entries where try entry.string("name") == name { return entry }
    return nil
  }
}

/// Calls to the Kubernetes API server on behalf of one pod: GETs with its service-account token, and
/// failures phrased from the API's `Status` objects (code, reason, message), never from a body
/// otherwise, and never with the token.
struct APIServerCalls {
  let client: HTTPClient
  let server: HTTPSURL
  let token: String
  let source: String

  /// The GET request for an API path such as `/api/v1/namespaces/ns/secrets/name`.
  func request(_ apiPath: String) throws(PullwardenError) -> HTTPRequest {
    var base = server.text
    while base.hasSuffix("/") { base.removeLast() }
    do {
      let url = try HTTPSURL(parsing: base + apiPath)
      return HTTPRequest(method: .get, url: url, headers: [("Authorization", "Bearer " + token), ("Accept", "application/json")])
    } catch {
      throw PullwardenError(.source, "cannot build the API URL for \(apiPath): \(error)", at: "source \"\(source)\"")
    }
  }

  /// Sends every request at once (curl multi); one result per request, in order.
  func send(_ requests: [HTTPRequest]) -> [Result<HTTPResponse, HTTPFailure>] {
    client.send(requests)
  }

  /// `HTTP 403 Forbidden: secrets "x" is forbidden: User "..." cannot get resource "secrets" ...`
  func summary(_ response: HTTPResponse) -> String {
    guard let status = APIStatus(response) else { return response.failureSummary(redacting: [token]) }
    var text = "HTTP \(response.status)"
    if let reason = status.reason { text += " \(reason)" }
    if let message = status.message {
      text += ": " + HTTPResponse.sanitized(message, redacting: [token], limit: 300)
    }
    return text
  }

  func place(_ request: HTTPRequest, attempts: Int) -> String {
    "\(request.label)\(attempts > 1 ? " after \(attempts) attempts" : ""), source \"\(source)\""
  }

  /// The JSON object in a 2xx answer, with errors that name the request, never the body.
  func object(_ response: HTTPResponse, of request: HTTPRequest, describedAs noun: String) throws(PullwardenError) -> ObjectReader {
    let name = "answer to \(request.label)"
    do {
      let document = Document(name: name, kind: .source, root: try JSON.parse(response.body, document: name, kind: .source))
      return try document.rootObject(describedAs: noun)
    } catch {
      throw PullwardenError(.source, error.what, at: place(request, attempts: response.attempts))
    }
  }
}

/// A Kubernetes `Status` object, as the API server answers errors.
struct APIStatus {
  var code: Int64?
  var reason: String?
  var message: String?

  init?(_ response: HTTPResponse) {
    guard !response.body.isEmpty, case .object(let object)? = try? JSON.parse(response.body, document: "status", kind: .source),
      object["kind"]?.stringValue == "Status"
    else { return nil }
    if case .integer(let value)? = object["code"] { code = value }
    reason = object["reason"]?.stringValue
    message = object["message"]?.stringValue
  }
}

/// Kubernetes object names as the API accepts them in a path: DNS-1123 subdomains (lower-case letters,
/// digits, '-' and '.', at most 253). Checked before a name goes into a URL.
func isKubernetesName(_ name: String) -> Bool {
  let bytes = Array(name.utf8)
  guard let first = bytes.first, let last = bytes.last, bytes.count <= 253 else { return false }
  func alnum(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A) }
  return alnum(first) && alnum(last) && bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
}
