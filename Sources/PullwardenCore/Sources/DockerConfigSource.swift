/// `type: dockerConfig`: a node file in `~/.docker/config.json` or legacy `.dockercfg` format.
///
/// Credentials from here are node-wide: they belong to no Secret or service account, so images pulled
/// with them are recorded as accessible to every pod on the node (as the kubelet records its own node
/// keyring's credentials).
public struct DockerConfigSource: CredentialSource {
  public static let typeName = "dockerConfig"
  public static let makesHTTPRequests = false
  public static let settingKeys = ["path", "format"]
  /// Docker config files are small; anything bigger is a mistake.
  static let sizeLimit = 1 << 20

  public let common: SourceCommon
  /// Absolute path of the file.
  public let path: String
  /// nil to detect the format from the content.
  public let format: DockerConfig.Format?

  public init(common: SourceCommon, settings: ObjectReader, baseDirectory: String) throws(PullwardenError) {
    self.common = common
    path = FileIO.resolve(try settings.requiredNonEmptyString("path"), relativeTo: baseDirectory)
    if let formatText = try settings.string("format"), formatText != "auto" {
      guard let format = DockerConfig.Format(rawValue: formatText) else {
        throw settings.error("unknown format \"\(formatText)\" (expected auto, config.json or dockercfg)", at: "format")
      }
      self.format = format
    } else {
      format = nil
    }
  }

  public func credentials(for context: ProvideContext) throws(PullwardenError) -> [SuppliedCredential] {
    let bytes: [UInt8]
    do {
      // Node-wide credentials: a file anyone else could write would let them choose what every pod gets.
      bytes = try FileIO.readFile(path, limit: Self.sizeLimit, trusted: true)
    } catch let untrusted as UntrustedFile {
      throw PullwardenError(.source, untrusted.description, at: "source \"\(common.name)\"")
    } catch {
      throw PullwardenError(.source, "cannot read docker config: \(error)", at: "source \"\(common.name)\"")
    }
    let document = Document(name: path, kind: .source, root: try JSON.parse(bytes, document: path, kind: .source))
    let config = try DockerConfig.parse(document, format: format)
    for skipped in config.skipped {
      context.diagnostics.warn(
        "ignoring registry \(quoted: skipped.rawKey) in \(path) (source \(quoted: common.name)): \(skipped.reason)",
        kind: "registry entries without credentials")
    }
    return config.entries.compactMap { entry in
      guard let key = entry.key else {
        context.diagnostics.warn(
          "ignoring registry \(quoted: entry.rawKey) in \(path): not a usable registry key", kind: "unusable registry keys")
        return nil
      }
      guard context.includes(key, within: common.matchImages) else {
        context.noteLeftOut(key, source: common.name)
        return nil
      }
      return SuppliedCredential(key: key, credential: entry.credential, origin: .node, sourceName: common.name)
    }
  }
}
