/// `type: secretFiles`: a directory of Kubernetes Secret objects saved as JSON or YAML
/// (`kubectl get secret NAME -o yaml > dir/NAME.yaml`).
///
/// Files ending in `.json`, `.yaml` or `.yml` are read in name order; hidden files are skipped. A file
/// may hold one Secret, several YAML documents, or a `List` (what `kubectl get secrets -o yaml`
/// prints). Each credential keeps its Secret's namespace, name and uid, so pull records can name it.
public struct SecretFilesSource: CredentialSource {
  public static let typeName = "secretFiles"
  public static let makesHTTPRequests = false
  public static let settingKeys = ["directory"]
  /// The API server refuses Secrets over 1 MiB; a file holding a List may be larger.
  static let fileSizeLimit = 8 << 20

  public let common: SourceCommon
  public let directory: String

  public init(common: SourceCommon, settings: ObjectReader, baseDirectory: String) throws(PullwardenError) {
    self.common = common
    directory = FileIO.resolve(try settings.requiredNonEmptyString("directory"), relativeTo: baseDirectory)
  }

  public func credentials(for context: ProvideContext) throws(PullwardenError) -> [SuppliedCredential] {
    let indexPath = context.stateDirectory.map { SecretFilesIndex.path(for: directory, in: $0) }
    let previous = indexPath.flatMap { SecretFilesIndex.load(from: $0, directory: directory) }
    var current = SecretFilesIndex(directory: directory, entries: [])
    var previousEntries = (previous?.entries ?? [])[...]
    var supplied: [SuppliedCredential] = []
    var seen: [SecretCoordinates: KubernetesSecret] = [:]
    let diagnostics = context.diagnostics

    var names = try secretFileNames()
    let limit = TenantLimits.secretFilesPerDirectory
    if names.count > limit {
      diagnostics.warn(
        "source \(quoted: common.name) reads only the first \(limit) of the \(names.count) Secret files in \(directory) (secretFilesPerDirectory); the others are ignored")
      names = Array(names.prefix(limit))
      context.advice.noteIncompleteAnswer()
    }

    // One tenant's broken file must not stop the others' pulls: it is skipped with a warning naming
    // it, and since it could have held credentials for this image, the answer is cached only as long
    // as a miss. A skipped file is never indexed, so it is read (and reported) again on every call.
    // A file someone other than root or the user running Pullwarden could write (owner, group/other
    // write bits; see FileTrust) is skipped the same way: its Secrets are not trusted, and refusing
    // the whole source would let one misconfigured file stop every team's pulls.
    func skip(_ problem: String) {
      diagnostics.warn("ignoring a Secret file of source \(quoted: common.name): \(problem)", kind: "Secret files ignored")
      context.advice.noteIncompleteAnswer()
    }

    for name in names {
      let path = directory + "/" + name
      let identity: FileIO.FileIdentity
      do {
        guard let found = try FileIO.identity(path) else {
          // Gone since the listing, or not a regular file (a FIFO would block the read).
          if let type = try? FileIO.fileType(path), type != .regular {
            skip("cannot read \(path): expected a regular file")
          }
          continue
        }
        identity = found
      } catch {
        skip("\(error)")
        continue
      }
      // Both lists are in directory order, so the previous entry for this name is found by walking.
      while let first = previousEntries.first, bytewiseLess(first.name, name) {
        previousEntries.removeFirst()
      }
      if let entry = previousEntries.first, entry.name.utf8.elementsEqual(name.utf8), entry.identity == identity {
        current.entries.append(entry)
        let concerned = entry.registries.contains {
          context.mayInclude(keyText: $0) && context.includes(RegistryKey(normalized: $0), within: common.matchImages)
        }
        if !concerned { continue }
      }
      let secrets: [KubernetesSecret]
      do {
        secrets = try readSecrets(path: path, diagnostics: diagnostics)
      } catch {
        if current.entries.last?.name == name { current.entries.removeLast() }
        skip(error.description)
        continue
      }
      var registries: [String] = []
      var usable = true
      for secret in secrets {
        if let earlier = seen[secret.coordinates] {
          diagnostics.warn(
            "Secret \(secret.coordinates) appears twice (\(earlier.origin) and \(secret.origin)); both are used",
            kind: "Secrets that appear twice")
        }
        seen[secret.coordinates] = secret
        let config: DockerConfig
        do {
          guard let found = try secret.dockerConfig() else {
            let reason = secret.isDockerSecret ? "it has no registry credentials" : "its type is \(quoted: secret.type)"
            diagnostics.warn(
              "ignoring Secret \(secret.coordinates) (\(secret.origin)): \(reason)", kind: "Secrets without registry credentials")
            continue
          }
          config = found
        } catch {
          diagnostics.warn(
            "ignoring Secret \(secret.coordinates) of source \(quoted: common.name): \(error)", kind: "Secrets ignored")
          context.advice.noteIncompleteAnswer()
          usable = false
          continue
        }
        for skipped in config.skipped {
          diagnostics.warn(
            "ignoring registry \(quoted: skipped.rawKey) in Secret \(secret.coordinates) (\(secret.origin)): \(skipped.reason)",
            kind: "registry entries without credentials")
        }
        for entry in config.entries {
          guard let key = entry.key else { continue }
          registries.append(key.text)
          guard context.includes(key, within: common.matchImages) else {
            context.noteLeftOut(key, source: common.name)
            continue
          }
          supplied.append(
            SuppliedCredential(
              key: key, credential: entry.credential, origin: CredentialOrigin(secret: secret.coordinates),
              sourceName: common.name))
        }
      }
      if current.entries.last?.name == name && !usable {
        current.entries.removeLast()
      } else if current.entries.last?.name != name && usable {
        current.entries.append(SecretFilesIndex.Entry(name: name, identity: identity, registries: registries))
      }
    }

    if let indexPath, current != previous {
      do {
        try current.save(to: indexPath)
      } catch {
        diagnostics.warn("cannot update the index of \(directory): \(error)")
      }
    }
    return supplied
  }

  /// Names of the Secret files in the directory, in name order.
  func secretFileNames() throws(PullwardenError) -> [String] {
    let names: [String]
    do {
      // The directory is the operator's: if anyone else can add or replace files in it, any Secret in
      // it may be theirs, so the whole source is refused rather than one file skipped.
      names = try FileIO.directoryEntries(directory, trusted: true)
    } catch let untrusted as UntrustedFile {
      throw PullwardenError(.source, untrusted.description, at: "source \"\(common.name)\"")
    } catch {
      throw PullwardenError(.source, "cannot read Secret directory: \(error)", at: "source \"\(common.name)\"")
    }
    return names.filter { name in
      let bytes = name.utf8
      return bytes.first != UInt8(ascii: ".")
        && (bytes.elementsEqualSuffix(".json") || bytes.elementsEqualSuffix(".yaml") || bytes.elementsEqualSuffix(".yml"))
    }
  }

  /// Every Secret object in one file, in document order.
  func readSecrets(path: String, diagnostics: Diagnostics) throws(PullwardenError) -> [KubernetesSecret] {
    let bytes: [UInt8]
    do {
      // A file someone else could write is skipped like any other broken Secret file (see `credentials`).
      bytes = try FileIO.readFile(path, limit: Self.fileSizeLimit, trusted: true)
    } catch {
      // The error names the path.
      throw PullwardenError(.source, "\(error)")
    }
    var secrets: [KubernetesSecret] = []
    // Read as kubectl reads them (YAMLSchema.kubernetes: `yes` is a boolean, `0755` octal).
    for document in try YAMLLoader.documents(bytes, name: path, kind: .source, schema: .kubernetes) {
      secrets += try Self.secrets(in: document, diagnostics: diagnostics)
    }
    return secrets
  }

  /// The Secrets in one document: a Secret, or a List of them.
  static func secrets(in document: Document, diagnostics: Diagnostics) throws(PullwardenError) -> [KubernetesSecret] {
    if document.root == .null { return [] }  // an empty YAML document, e.g. after a trailing "---"
    let object = try document.rootObject(describedAs: "Kubernetes object")
    switch try object.string("kind") {
    case "List", "SecretList":
      return try (object.objectArray("items") ?? []).map { item throws(PullwardenError) in try KubernetesSecret(item) }
    case "Secret", nil:
      return [try KubernetesSecret(object)]
    case let other?:
      diagnostics.warn("ignoring \(quoted: other) object in \(document.name): only Secrets are read", kind: "objects that are not Secrets")
      return []
    }
  }
}

extension String.UTF8View {
  /// Whether the bytes end with `suffix`'s bytes (no Unicode processing).
  fileprivate func elementsEqualSuffix(_ suffix: StaticString) -> Bool {
    let tail = UnsafeBufferPointer(start: suffix.utf8Start, count: suffix.utf8CodeUnitCount)
    guard count >= tail.count else { return false }
    return self[index(endIndex, offsetBy: -tail.count)...].elementsEqual(tail)
  }
}
