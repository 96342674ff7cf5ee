#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A file that could not be read, sorted into what `config check` reports: missing, untrusted (see
/// `FileTrust`) or otherwise unreadable.
struct FileProblem {
  let error: any Error
  let path: String

  init(_ error: any Error, path: String) {
    self.error = error
    self.path = path
  }

  /// Adds the error; `setting` names the config key that names the file, for the fix.
  func report(into report: inout ConfigCheckReport, what: String, setting: String?, file: String? = nil, line: Int? = nil) {
    let at = setting.map { " (or correct \"\($0)\")" } ?? ""
    if let untrusted = error as? UntrustedFile {
      report.error(
        "untrusted-file", "\(what): \(untrusted.description)", file: file ?? path, line: line,
        fix: "make it owned by root and not writable by group or others (chown root \(path); chmod go-w \(path)), or use a file or directory of its own: Pullwarden acts only on what root (or the user running it) could have written")
    } else if let system = error as? SystemError, system.isNotFound {
      report.error("missing-file", "\(what) \(path) does not exist", file: file ?? path, line: line, fix: "create it\(at)")
    } else {
      report.error("unreadable-file", "\(what): \(error)", file: file ?? path, line: line, fix: "make it a readable regular file\(at)")
    }
  }
}

extension Checker {
  // MARK: Files provide reads

  mutating func checkFiles() {
    for (index, source) in config.sources.enumerated() {
      let name = source.common.name
      switch source {
      case let docker as DockerConfigSource:
        checkDockerConfig(docker, index: index)
      case let secrets as SecretFilesSource:
        checkSecretFiles(secrets, index: index)
      case let kubernetes as KubernetesSecretsSource:
        switch kubernetes.location {
        case .explicit: break
        case .inCluster(let caFile):
          if kubernetes.http.caFile == nil {
            checkReadable(caFile, what: "source \(quoted: name): the in-cluster CA file", setting: "caFile", index: index, key: nil)
          }
        case .kubeconfig(let path, let context):
          checkKubeconfig(path, context: context, source: name, index: index)
        }
        checkHTTPFiles(kubernetes.http, source: name, index: index)
      case let exchange as TokenExchangeSource:
        checkHTTPFiles(exchange.http, source: name, index: index)
      case let registry as RegistryTokenSource:
        checkHTTPFiles(registry.http, source: name, index: index)
      default:
        break
      }
    }
  }

  /// A statically linked pullwarden hands the sources that make HTTPS requests to
  /// pullwarden-dynamic: whether it could, said once, for the first such source.
  mutating func checkDynamicSibling() {
    guard !HTTPSupport.isAvailable, let source = config.sources.first(where: \.makesHTTPRequests) else { return }
    do {
      close(try DynamicSibling.open().descriptor)
    } catch {
      report.error(
        "missing-dynamic-sibling", "source \(quoted: source.common.name) makes HTTPS requests, but \(error.what)",
        file: error.location, fix: "install \(DynamicSibling.name) from the same release beside this binary, owned by root and not writable by group or others (the Debian package and scripts/install-node do)")
    }
  }

  private mutating func checkDockerConfig(_ source: DockerConfigSource, index: Int) {
    let what = "source \(quoted: source.common.name): docker config"
    let bytes: [UInt8]
    do {
      bytes = try FileIO.readFile(source.path, limit: DockerConfigSource.sizeLimit, trusted: true)
    } catch {
      FileProblem(error, path: source.path).report(into: &report, what: what, setting: "path", file: file, line: settingLine(index, "path"))
      return
    }
    warnIfReadableByOthers(source.path, what: what)
    do {
      let document = Document(name: source.path, kind: .source, root: try JSON.parse(bytes, document: source.path, kind: .source))
      let parsed = try DockerConfig.parse(document, format: source.format)
      keysBySource[source.common.name, default: []] += parsed.entries.compactMap { $0.key.map { ($0, source.path) } }
    } catch {
      let (message, line) = ConfigCheck.locate(error, in: source.path)
      report.error(
        "docker-config-invalid", "\(what): \(message)", file: source.path, line: line,
        fix: "correct the file (docker's config.json format: {\"auths\": {\"registry\": {\"auth\": …}}}); provide fails for every image this source serves")
    }
  }

  private mutating func checkSecretFiles(_ source: SecretFilesSource, index: Int) {
    let what = "source \(quoted: source.common.name): Secret directory"
    do {
      // Read here first so a missing, unreadable or untrusted directory is told apart by its error.
      _ = try FileIO.directoryEntries(source.directory, trusted: true)
    } catch {
      FileProblem(error, path: source.directory).report(into: &report, what: what, setting: "directory", file: file, line: settingLine(index, "directory"))
      return
    }
    let names: [String]
    do {
      names = try source.secretFileNames()
    } catch {
      report.error("unreadable-file", "\(what): \(error.what)", file: file, line: settingLine(index, "directory"), fix: "make it a readable directory")
      return
    }
    let collected = WarningCollector()
    for name in names.prefix(TenantLimits.secretFilesPerDirectory) {
      let path = source.directory + "/" + name
      do {
        _ = try FileIO.readFile(path, limit: SecretFilesSource.fileSizeLimit, trusted: true)
      } catch {
        FileProblem(error, path: path).report(into: &report, what: "source \(quoted: source.common.name): Secret file", setting: nil)
        continue
      }
      do {
        let secrets = try source.readSecrets(path: path, diagnostics: collected.diagnostics)
        var warned = false
        for secret in secrets {
          guard let parsed = try secret.dockerConfig() else { continue }
          if !warned { warnIfReadableByOthers(path, what: "source \(quoted: source.common.name): Secret file") }
          warned = true
          keysBySource[source.common.name, default: []] += parsed.entries.compactMap { $0.key.map { ($0, path) } }
        }
      } catch {
        let (message, line) = ConfigCheck.locate(error, in: path)
        report.error(
          "secret-file-invalid", "source \(quoted: source.common.name): \(message)", file: path, line: line,
          fix: "correct the file (kubectl get secret NAME -o yaml > \(name)) or remove it: provide skips it, and its Secrets' pods get no credentials")
      }
    }
    if names.count > TenantLimits.secretFilesPerDirectory {
      report.warning(
        "secret-files-over-limit",
        "source \(quoted: source.common.name): \(source.directory) holds \(names.count) Secret files; provide reads only the first \(TenantLimits.secretFilesPerDirectory) (secretFilesPerDirectory)",
        file: file, line: settingLine(index, "directory"), fix: "split the Secrets over several secretFiles sources")
    }
    for message in collected.messages {
      report.warning("secret-file-ignored", "source \(quoted: source.common.name): \(message)", file: source.directory, fix: "remove what is not a Secret from the directory")
    }
  }

  private mutating func checkKubeconfig(_ path: String, context: String?, source: String, index: Int) {
    do {
      _ = try FileIO.readFile(path, limit: APIServerLocation.kubeconfigSizeLimit, trusted: true)
    } catch {
      FileProblem(error, path: path).report(
        into: &report, what: "source \(quoted: source): kubeconfig", setting: "kubeconfig", file: file, line: settingLine(index, "kubeconfig"))
      return
    }
    do {
      let cluster = try Kubeconfig.cluster(path: path, context: context, source: source)
      if let caFile = cluster.caFile {
        checkReadable(caFile, what: "source \(quoted: source): the kubeconfig's certificate-authority", setting: nil, index: index, key: nil, file: path)
      }
    } catch {
      let (message, line) = ConfigCheck.locate(error, in: path)
      report.error(
        "kubeconfig-invalid", "source \(quoted: source): \(message)", file: path, line: line,
        fix: "correct the kubeconfig or \"kubeconfigContext\"")
    }
  }

  private mutating func checkHTTPFiles(_ http: HTTPSettings, source: String, index: Int) {
    if let caFile = http.caFile { checkReadable(caFile, what: "source \(quoted: source): caFile", setting: "caFile", index: index, key: "caFile") }
    if let certificate = http.clientCertificateFile {
      checkReadable(certificate, what: "source \(quoted: source): clientCertFile", setting: "clientCertFile", index: index, key: "clientCertFile")
    }
    if let key = http.clientKeyFile {
      if checkReadable(key, what: "source \(quoted: source): clientKeyFile", setting: "clientKeyFile", index: index, key: "clientKeyFile") {
        warnIfReadableByOthers(key, what: "client key")
      }
    }
  }

  /// Reports a TLS file (CA, client certificate or key) that cannot be read or trusted, as the HTTP
  /// client refuses it at provide time (FileTrust); returns whether it can be used.
  @discardableResult
  private mutating func checkReadable(_ path: String, what: String, setting: String?, index: Int, key: String?, file other: String? = nil) -> Bool {
    do {
      _ = try FileIO.readFile(path, limit: 16 << 20, trusted: true)
      return true
    } catch {
      let line = key.flatMap { settingLine(index, $0) }
      FileProblem(error, path: path).report(into: &report, what: what, setting: setting, file: other ?? file, line: other == nil ? line : nil)
      return false
    }
  }

  /// Credential files are for root (or the user running Pullwarden) alone.
  private mutating func warnIfReadableByOthers(_ path: String, what: String) {
    // Once per file, however many sources read it.
    if report.findings.contains(where: { $0.code == "credential-file-readable" && $0.file == path }) { return }
    var info = stat()
    guard stat(path, &info) == 0 else { return }
    let mode = UInt32(info.st_mode & 0o777)
    guard mode & 0o044 != 0 else { return }
    let octal = String(mode, radix: 8)
    report.warning(
      "credential-file-readable",
      "\(what) \(path) holds credentials and is readable by \(mode & 0o040 != 0 && mode & 0o004 != 0 ? "group and others" : mode & 0o040 != 0 ? "group" : "others") (mode 0\(octal))",
      file: path, fix: "chmod 600 \(path)")
  }

  // MARK: Directories provide writes

  mutating func checkDirectories() {
    let records = config.recordsDirectory
    switch WriteProbe.check(records) {
    case .writable: break
    case .willBeCreated(let parent):
      report.recordsNote = "does not exist yet; provide will create it in \(parent)"
    case .problem(let problem):
      report.error(
        "records-dir-not-writable", "recordsDir \(records): \(problem)", file: file, line: line(JSONPath.root.appending("recordsDir")),
        fix: "create it (install -d -m 0700 \(records)) as the user the kubelet runs Pullwarden as (root), or set recordsDir to a directory it can write; provide fails every request it cannot record (exit 4)")
    }
    // The folders provide writes in, where they exist already: each must be writable too.
    let store = RecordStore(directory: records)
    for folder in [store.pullingDirectory, store.pulledDirectory, store.expiryDirectory, store.lockDirectory, records + "/pullwarden-index"]
    where (try? FileIO.fileType(folder)) != nil {
      guard case .problem(let problem) = WriteProbe.check(folder) else { continue }
      report.error(
        "records-dir-not-writable", "recordsDir \(records): \(folder): \(problem)", file: file, line: line(JSONPath.root.appending("recordsDir")),
        fix: "give \(folder) back to root, 0700 (chown root \(folder); chmod 0700 \(folder)); provide fails every request it cannot record (exit 4)")
    }
    if let cache = config.credentialCache {
      switch WriteProbe.check(cache.directory) {
      case .writable, .willBeCreated: break
      case .problem(let problem):
        report.error(
          "credential-cache-not-writable", "credentialCache.dir \(cache.directory): \(problem)", file: file,
          line: line(JSONPath.root.appending("credentialCache").appending("dir")),
          fix: "create it (install -d -m 0700 \(cache.directory)) as root, or point credentialCache.dir at a directory Pullwarden can write")
      }
    }
    // The decision log and the metrics textfile never fail a pull (each failure is a warning on
    // stderr), so a directory they cannot use is a warning here too: the operator loses what they asked for.
    let observed: [(path: String?, key: [String], code: String, what: String)] = [
      (config.log?.file?.path, ["log", "file", "path"], "log-dir-not-writable", "the decision log"),
      (config.metrics?.textfile, ["metrics", "textfile"], "metrics-dir-not-writable", "the metrics textfile"),
    ]
    for entry in observed {
      guard let path = entry.path else { continue }
      let directory = FileIO.directoryName(path)
      guard case .problem(let problem) = WriteProbe.check(directory) else { continue }
      report.warning(
        entry.code, "\(entry.key.joined(separator: ".")) \(path): \(directory): \(problem)", file: file,
        line: line(entry.key.reduce(JSONPath.root) { $0.appending($1) }),
        fix: "create \(directory) as root, not writable by group or others (install -d -m 0755 \(directory)); until then every call warns and \(entry.what) is not written")
    }
  }
}

/// Whether Pullwarden could write in a directory, found by doing it: a temporary file is created in
/// the directory's own temporary folder (`.pullwarden-tmp`, where `FileIO.replaceFile` writes) and
/// removed at once, with the folder when the probe made it. Nothing stays.
enum WriteProbe {
  enum Outcome: Equatable {
    case writable
    /// Missing, but its nearest existing parent lets it be created (named here).
    case willBeCreated(parent: String)
    case problem(String)
  }

  static func check(_ directory: String) -> Outcome {
    let type: FileIO.FileType?
    do {
      type = try FileIO.fileType(directory)
    } catch {
      return .problem("\(error)")
    }
    switch type {
    case nil:
      var parent = FileIO.directoryName(directory)
      while (try? FileIO.fileType(parent)) == nil, parent != "/", parent != "." { parent = FileIO.directoryName(parent) }
      guard (try? FileIO.fileType(parent)) == .directory else { return .problem("it does not exist, and \(parent) is not a directory") }
      if access(parent, W_OK | X_OK) != 0 { return .problem("it does not exist, and \(parent) does not let this user create it (\(SystemError("access", parent).reason))") }
      return .willBeCreated(parent: parent)
    case .directory?:
      break
    default:
      return .problem("it is not a directory")
    }
    do {
      try FileTrust.checkPath(directory)
    } catch {
      return .problem("\(error)")
    }
    let scratch = directory + "/" + FileIO.temporaryDirectoryName
    let made = mkdir(scratch, 0o700) == 0
    if !made {
      // As FileIO.replaceFile: an existing entry of that name must be a real directory.
      guard errno == EEXIST else { return .problem(SystemError("create directory", scratch).description) }
      var info = stat()
      guard lstat(scratch, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
        return .problem(SystemError("create directory", scratch, code: ENOTDIR).description)
      }
    }
    defer { if made { rmdir(scratch) } }
    let probe = scratch + "/.config-check.\(getpid()).0.tmp"
    let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
    guard fd >= 0 else { return .problem(SystemError("create", probe).description) }
    close(fd)
    unlink(probe)
    return .writable
  }
}

/// Keeps the warnings a reader would print, so `config check` can report them as findings.
final class WarningCollector: @unchecked Sendable {
  private(set) var messages: [String] = []
  var diagnostics: Diagnostics { Diagnostics { [self] in self.messages.append($0) } }
}
