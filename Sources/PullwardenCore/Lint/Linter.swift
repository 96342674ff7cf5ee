#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `pullwarden lint`: reads manifest files, directories and stdin, then applies the rules to every
/// container (`makeReport`), once every input is read: a ServiceAccount in one file can give a pod in
/// another its imagePullSecrets.
public struct Linter {
  public let rules: LintRules
  /// Problems, warnings and counts so far; containers and findings are added by `makeReport`.
  private var report: LintReport
  private var containers: [(container: ManifestContainer, image: ImageReference)] = []
  private var accountsWithPullSecrets: Set<ServiceAccountName> = []

  public init(config: PullwardenConfig?) {
    rules = LintRules(config: config)
    report = LintReport(configPath: config?.path)
  }

  /// The rules applied to every container read so far.
  public func makeReport() -> LintReport {
    var report = self.report
    for (container, image) in containers {
      report.containers.append(LintReport.CheckedContainer(container: container, image: image, servedBy: rules.servingSources(image)))
      report.findings += rules.check(
        container, image: image, accountHasPullSecrets: accountsWithPullSecrets.contains(container.serviceAccount))
    }
    return report
  }

  /// Lints `path`: `-` for stdin (read through `readStdin`), a directory (recursively), or a file.
  public mutating func lint(path: String, readStdin: () throws -> [UInt8]) {
    if path == "-" {
      do {
        lint(try readStdin(), file: "stdin")
      } catch {
        report.errors.append(PullwardenError(.config, "cannot read manifests: \(error)", at: "stdin"))
      }
      return
    }
    do {
      switch try FileIO.fileType(path) {
      case nil:
        report.errors.append(PullwardenError(.config, "no such file or directory", at: path))
      case .directory?:
        try walk(path, depth: 0)
      default:
        read(path)
      }
    } catch {
      report.errors.append(PullwardenError(.config, "\(error)", at: path))
    }
  }

  /// Lints the manifests in `bytes`, named `file` in the report.
  public mutating func lint(_ bytes: [UInt8], file: String) {
    report.files += 1
    let contents = ManifestReader.read(bytes, file: file)
    report.objects += contents.objects
    report.errors += contents.errors
    report.warnings += contents.warnings
    accountsWithPullSecrets.formUnion(contents.accountsWithPullSecrets)
    for container in contents.containers {
      let image: ImageReference
      do {
        image = try ImageReference(parsing: container.image)
      } catch {
        let place = container.imageMark.map { "\(file):\($0.line):\($0.column)" } ?? file
        report.warnings.append(
          "warning: \(container.objectDescription) \(container.path): image \(quoted: container.image) is not a valid image reference (\(error)); the kubelet fails it with InvalidImageName (\(place))")
        continue
      }
      containers.append((container, image))
    }
  }

  private mutating func read(_ path: String) {
    let bytes: [UInt8]
    do {
      // Opened without blocking and checked on the descriptor: a FIFO is refused, never waited on.
      bytes = try FileIO.readFile(path, limit: LintLimits.fileSize)
    } catch let tooLarge as FileTooLarge {
      report.errors.append(PullwardenError(.config, "file is larger than \(ByteCount(tooLarge.limit)) (the lint limit for one file)", at: path))
      return
    } catch {
      report.errors.append(PullwardenError(.config, "\(error)"))
      return
    }
    lint(bytes, file: path)
  }

  static func isManifestName(_ name: String) -> Bool {
    name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".json")
  }

  /// Every `*.yaml`, `*.yml` and `*.json` below `directory`, in byte order of names. Hidden entries
  /// (`.git`) are skipped; symbolic links to files are read, links to directories are not followed
  /// (a loop would never end); FIFOs, sockets and devices are skipped with a warning.
  private mutating func walk(_ directory: String, depth: Int) throws {
    guard depth <= LintLimits.directoryDepth else {
      report.errors.append(PullwardenError(.config, "directories nested more than \(LintLimits.directoryDepth) deep (the lint limit)", at: directory))
      return
    }
    for name in try FileIO.directoryEntries(directory) where !name.hasPrefix(".") {
      if filesFromDirectories > LintLimits.filesPerRun { return }
      let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
      switch try FileIO.fileType(path, followLinks: false) {
      case .directory?:
        try walk(path, depth: depth + 1)
      case .regular? where Self.isManifestName(name):
        guard try countFile(path) else { return }
        read(path)
      case .symbolicLink? where Self.isManifestName(name):
        if try FileIO.fileType(path) == .regular {
          guard try countFile(path) else { return }
          read(path)
        } else {
          report.warnings.append("warning: skipped \(Escaping.quoted(path)): a symbolic link to something other than a regular file")
        }
      case .other? where Self.isManifestName(name):
        report.warnings.append("warning: skipped \(Escaping.quoted(path)): not a regular file (a FIFO, socket or device)")
      default:
        continue
      }
    }
  }

  private var filesFromDirectories = 0

  /// Counts a file found in a directory; false (with the error) once there are too many.
  private mutating func countFile(_ path: String) throws -> Bool {
    filesFromDirectories += 1
    if filesFromDirectories > LintLimits.filesPerRun {
      guard filesFromDirectories == LintLimits.filesPerRun + 1 else { return false }
      report.errors.append(PullwardenError(.config, "more than \(LintLimits.filesPerRun) manifest files (the lint limit); the rest were not read", at: path))
      return false
    }
    return true
  }
}
