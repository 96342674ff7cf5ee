import FixtureKit
import Foundation
import Testing

/// The README's "Install on a node", followed step by step against the release binary: the Debian
/// package (built, lintian-checked, installed into a scratch root, run, removed, purged) and
/// scripts/install-node (install, install again, uninstall), both checked file by file against one
/// table of paths, modes and owners. The release is two files (scripts/build-release): the static
/// `pullwarden` the kubelet runs and, beside it, `pullwarden-dynamic`, which it hands HTTPS calls to.
///
/// They need the release binary (`PULLWARDEN_RELEASE=1` and `PULLWARDEN_BIN`, as scripts/test sets
/// them, with pullwarden-dynamic beside it): the package is what users install. The package tests also need root (dpkg --root checks
/// owners) and dpkg-dev and lintian (`scripts/install-deps --test`).
@Suite(.serialized) struct PackageEndToEndTests {
  static let releaseBinary: String? = {
    let environment = ProcessInfo.processInfo.environment
    guard environment["PULLWARDEN_RELEASE"] == "1", let binary = environment["PULLWARDEN_BIN"], !binary.isEmpty else { return nil }
    return binary
  }()
  /// The release's second file, from beside the front end, as the installers take it.
  static var releaseSibling: String? {
    releaseBinary.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("pullwarden-dynamic").path }
  }
  static let pluginDirectory = "usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec"
  static let canBuildPackage = releaseBinary != nil && getuid() == 0
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/lintian")
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-shlibdeps")

  /// Every path a node gets, its type and mode (`find -printf %M`); owner and group are always root.
  /// `packageOnly` entries come only with the .deb; `installNodeOnly` ones only with install-node.
  static let expectedFiles: [(path: String, mode: String, packageOnly: Bool, installNodeOnly: Bool)] = [
    ("etc/pullwarden", "drwxr-x---", false, false),
    ("etc/pullwarden/config.yaml", "-rw-------", false, false),
    ("etc/pullwarden/secrets", "drwx------", false, false),
    ("etc/systemd/system/timers.target.wants/pullwarden-records-gc.timer", "lrwxrwxrwx", false, false),
    ("lib/systemd/system/pullwarden-records-gc.service", "-rw-r--r--", false, false),
    ("lib/systemd/system/pullwarden-records-gc.timer", "-rw-r--r--", false, false),
    ("usr/bin/pullwarden", "lrwxrwxrwx", false, false),
    ("usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/pullwarden", "-rwxr-xr-x", false, false),
    ("usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/pullwarden-dynamic", "-rwxr-xr-x", false, false),
    ("usr/share/doc/pullwarden/changelog.Debian.gz", "-rw-r--r--", true, false),
    ("usr/share/doc/pullwarden/copyright", "-rw-r--r--", false, false),
    ("usr/share/doc/pullwarden/examples/credential-provider-config.yaml", "-rw-r--r--", false, false),
    ("usr/share/lintian/overrides/pullwarden", "-rw-r--r--", true, false),
    ("usr/share/man/man1/pullwarden.1.gz", "-rw-r--r--", false, false),
    ("usr/share/bash-completion/completions/pullwarden", "-rw-r--r--", false, false),
    ("usr/share/zsh/vendor-completions/_pullwarden", "-rw-r--r--", false, false),
    ("usr/share/fish/vendor_completions.d/pullwarden.fish", "-rw-r--r--", false, false),
    ("var/lib/pullwarden", "drwx------", false, false),
    ("var/lib/pullwarden/pulled", "drwx------", false, false),
    ("var/lib/pullwarden/pulling", "drwx------", false, false),
    ("var/lib/pullwarden-install/files", "-rw-r--r--", false, true),
  ]
  @Test(.enabled(if: canBuildPackage, "needs PULLWARDEN_RELEASE=1 with PULLWARDEN_BIN (scripts/test), root, dpkg-dev and lintian"))
  func packageFollowsTheReadme() throws {
    let binary = try #require(Self.releaseBinary)
    let scratch = try Scratch()
    // README: deb="$(scripts/build-deb)" (the tests package the release binary scripts/test built).
    try Readme.expect(section: "## Install on a node", contains: [
      "scripts/install-deps --package", #"deb="$(scripts/build-deb)""#, #"lintian --fail-on error,warning "$deb""#,
      "apt install ./pullwarden_*.deb", "pullwarden --version", "pullwarden config check --config /etc/pullwarden/config.yaml",
    ])
    let built = try Shell.run("scripts/build-deb", ["--binary", binary, "--out", scratch.path + "/out"])
    #expect(built.status == 0, "\(built.stderr)")
    let deb = built.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(deb.hasPrefix(scratch.path + "/out/pullwarden_") && deb.hasSuffix(".deb"), "\(deb)")

    let lintian = try Shell.run("/usr/bin/lintian", ["--fail-on", "error,warning", deb], timeout: 600)
    #expect(lintian.status == 0, "lintian: \(lintian.stdout)\(lintian.stderr)")
    #expect(!lintian.stdout.contains("E: ") && !lintian.stdout.contains("W: "), "\(lintian.stdout)")

    // Depends are what pullwarden-dynamic NEEDs (the static front end NEEDs nothing); libc6's version is
    // the newest GLIBC_ symbol version it uses.
    let sibling = try #require(Self.releaseSibling)
    let control = try Shell.run("/usr/bin/dpkg-deb", ["-f", deb, "Depends", "Recommends", "Static-Built-Using"])
    let newestGlibc = try Shell.run("/bin/sh", ["-c", "objdump -T \"$0\" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1", sibling])
    let glibc = newestGlibc.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "GLIBC_", with: "")
    #expect(glibc.hasPrefix("2."), "no GLIBC_ symbol version in \(sibling): \(newestGlibc.stdout)\(newestGlibc.stderr)")
    #expect(control.stdout.contains("Depends: libc6 (>= \(glibc)), libjansson4"), "\(control.stdout)")
    #expect(control.stdout.contains("libyaml-0-2"))
    #expect(control.stdout.contains("Recommends: libcurl4 (>= 7.66.0)"))
    // What the static binary carries inside: the source packages of the archives it was linked from,
    // at this machine's versions (where the release was built).
    let sources = try Shell.run("/usr/bin/dpkg-query", [
      "-W", "-f=${source:Package} (= ${source:Version})\n", "libc6-dev", "libjansson-dev", "libyaml-dev", "libmd-dev", "libstdc++-12-dev",
    ])
    try #require(sources.status == 0, "\(sources.stderr)")
    let embedded = sources.stdout.split(separator: "\n").map(String.init).sorted()
    #expect(embedded.map { $0.split(separator: " ")[0] } == ["gcc-12", "glibc", "jansson", "libmd", "libyaml"], "\(embedded)")
    #expect(control.stdout.contains("Static-Built-Using: " + embedded.joined(separator: ", ") + "\n"), "\(control.stdout)")
    try Readme.expect(section: "## Install on a node", contains: ["glibc \(glibc) or newer", "`libjansson4`", "`libyaml-0-2`", "`libcurl4` (Recommends)"])

    // README: apt install ./pullwarden_*.deb, here into a scratch root whose dpkg database holds this
    // machine's libc6, libjansson4 and libyaml-0-2, so the Depends are checked for real.
    let root = scratch.path + "/root"
    try ScratchRoot.initialiseDpkg(root, with: ["libc6", "libjansson4", "libyaml-0-2"])
    let installed = try ScratchRoot.dpkg(root, ["-i", deb])
    #expect(installed.status == 0, "\(installed.stdout)\(installed.stderr)")
    try ScratchRoot.expectFiles(in: root, packaged: true)

    // README: pullwarden --version; pullwarden config check --config /etc/pullwarden/config.yaml
    let installedBinary = URL(fileURLWithPath: root + "/usr/bin/pullwarden")
    let version = try Pullwarden.run(["--version"], binary: installedBinary)
    #expect(version.status == 0 && version.stdout.hasPrefix("pullwarden "), "\(version.stdout)\(version.stderr)")
    try ScratchRoot.expectSiblingBesideFrontEnd(in: root, version: version.stdout)
    try ScratchRoot.expectHandOff(to: root, in: scratch)
    #expect(deb.contains("_" + version.stdout.split(separator: " ")[1] + "+git") || deb.contains("_" + version.stdout.split(separator: " ")[1] + "-1_"))
    let check = try Pullwarden.run(["config", "check", "--strict", "--config", try ScratchRoot.installedConfig(root, in: scratch)], binary: installedBinary)
    #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

    // The daily gc the timer runs works on the installed config's records directory.
    let service = try String(contentsOfFile: root + "/lib/systemd/system/pullwarden-records-gc.service", encoding: .utf8)
    #expect(service.contains("ExecStart=/usr/bin/pullwarden records gc --config /etc/pullwarden/config.yaml --expired\n"))
    let gc = try Pullwarden.run(["records", "gc", "--records-dir", root + "/var/lib/pullwarden", "--expired"], binary: installedBinary)
    #expect(gc.status == 0, "\(gc.stdout)\(gc.stderr)")

    // An edited conffile survives remove; purge deletes config and records.
    try "# a record\n".write(toFile: root + "/var/lib/pullwarden/pulled/marker", atomically: true, encoding: .utf8)
    let removed = try ScratchRoot.dpkg(root, ["-r", "pullwarden"])
    #expect(removed.status == 0, "\(removed.stdout)\(removed.stderr)")
    #expect(FileManager.default.fileExists(atPath: root + "/etc/pullwarden/config.yaml"))
    #expect(FileManager.default.fileExists(atPath: root + "/var/lib/pullwarden/pulled/marker"))
    #expect(!FileManager.default.fileExists(atPath: root + "/usr/bin/pullwarden"))
    for name in ["pullwarden", "pullwarden-dynamic"] {
      #expect(!FileManager.default.fileExists(atPath: root + "/" + Self.pluginDirectory + "/" + name), "\(name) is left after remove")
    }
    let purged = try ScratchRoot.dpkg(root, ["-P", "pullwarden"])
    #expect(purged.status == 0, "\(purged.stdout)\(purged.stderr)")
    let left = try ScratchRoot.listing(root)
    #expect(left.allSatisfy { $0.hasPrefix("d") && !$0.contains("pullwarden") }, "left behind: \(left)")
  }

  @Test(.enabled(if: releaseBinary != nil && getuid() == 0, "needs PULLWARDEN_RELEASE=1 with PULLWARDEN_BIN (scripts/test) and root"))
  func installNodeIsIdempotentKeepsEditedConfigAndUninstalls() throws {
    let binary = try #require(Self.releaseBinary)
    try Readme.expect(section: "### Without a package manager", contains: [
      #"scripts/install-node --root /mnt/node-image --binary ./pullwarden"#, "scripts/install-node --uninstall",
    ])
    let scratch = try Scratch()
    let root = scratch.path + "/node"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)

    let first = try Shell.run("scripts/install-node", ["--root", root, "--binary", binary])
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout.contains("install-node: installed into \(root) ("), "\(first.stdout)")
    // The sibling goes in before the front end the kubelet calls, and out after it.
    let installedSibling = try #require(first.stdout.range(of: "installed /\(Self.pluginDirectory)/pullwarden-dynamic (mode 755)\n"))
    let installedFrontEnd = try #require(first.stdout.range(of: "installed /\(Self.pluginDirectory)/pullwarden (mode 755)\n"))
    #expect(installedSibling.lowerBound < installedFrontEnd.lowerBound, "\(first.stdout)")
    try ScratchRoot.expectFiles(in: root, packaged: false)
    let version = try Pullwarden.run(["--version"], binary: URL(fileURLWithPath: root + "/usr/bin/pullwarden"))
    #expect(version.status == 0)
    try ScratchRoot.expectSiblingBesideFrontEnd(in: root, version: version.stdout)
    try ScratchRoot.expectHandOff(to: root, in: scratch)
    let check = try Pullwarden.run(
      ["config", "check", "--strict", "--config", try ScratchRoot.installedConfig(root, in: scratch)], binary: URL(fileURLWithPath: root + "/usr/bin/pullwarden"))
    #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

    let second = try Shell.run("scripts/install-node", ["--root", root, "--binary", binary])
    #expect(second.status == 0)
    #expect(second.stdout == "install-node: nothing to change in \(root): every file is installed and up to date\n", "\(second.stdout)")

    let config = root + "/etc/pullwarden/config.yaml"
    let edited = try String(contentsOfFile: config, encoding: .utf8) + "# edited by the operator\n"
    try edited.write(toFile: config, atomically: false, encoding: .utf8)
    let third = try Shell.run("scripts/install-node", ["--root", root, "--binary", binary])
    #expect(third.stdout.contains("kept your /etc/pullwarden/config.yaml; the new default is /etc/pullwarden/config.yaml.new"), "\(third.stdout)")
    #expect(try String(contentsOfFile: config, encoding: .utf8) == edited)
    #expect(FileManager.default.fileExists(atPath: config + ".new"))

    let uninstalled = try Shell.run("scripts/install-node", ["--root", root, "--uninstall"])
    #expect(uninstalled.status == 0, "\(uninstalled.stderr)")
    let removedFrontEnd = try #require(uninstalled.stdout.range(of: "removed /\(Self.pluginDirectory)/pullwarden\n"))
    let removedSibling = try #require(uninstalled.stdout.range(of: "removed /\(Self.pluginDirectory)/pullwarden-dynamic\n"))
    #expect(removedFrontEnd.lowerBound < removedSibling.lowerBound, "\(uninstalled.stdout)")
    #expect(try String(contentsOfFile: config, encoding: .utf8) == edited)
    #expect(FileManager.default.fileExists(atPath: root + "/var/lib/pullwarden"))
    #expect(try ScratchRoot.listing(root).filter { !$0.hasPrefix("d") }.map { String($0.split(separator: " ")[3]) } == [
      "etc/pullwarden/config.yaml", "etc/pullwarden/config.yaml.new", "var/lib/pullwarden-install/files",
    ])
    let purged = try Shell.run("scripts/install-node", ["--root", root, "--uninstall", "--purge"])
    #expect(purged.status == 0, "\(purged.stderr)")
    let left = try ScratchRoot.listing(root)
    #expect(left.filter { !$0.hasPrefix("d") }.isEmpty, "left behind: \(left)")
    #expect(!FileManager.default.fileExists(atPath: root + "/etc/pullwarden"))
    #expect(!FileManager.default.fileExists(atPath: root + "/var/lib/pullwarden"))
  }

  /// A front end without pullwarden-dynamic beside it would install a node whose HTTPS sources fail:
  /// install-node (through stage-files, which build-deb shares) refuses it and writes nothing.
  @Test func installNodeRefusesAFrontEndWithoutItsSibling() throws {
    let scratch = try Scratch()
    let alone = scratch.path + "/release/pullwarden"
    try FileManager.default.createDirectory(atPath: scratch.path + "/release", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: Pullwarden.binary.path, toPath: alone)
    let root = scratch.path + "/node"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let refused = try Shell.run("scripts/install-node", ["--root", root, "--binary", alone])
    #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
    #expect(refused.stderr == "stage-files: \(scratch.path)/release/pullwarden-dynamic is missing: HTTPS calls need it beside \(alone) (scripts/build-release builds both)\n", "\(refused.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty)
  }
}

extension PackageEndToEndTests {
  /// A sibling that cannot be installed (a directory in its place; a full disk fails the same step)
  /// stops install-node before the front end goes in: the kubelet never runs a new front end beside a
  /// missing or truncated sibling.
  @Test func installNodeStopsBeforeTheFrontEndWhenTheSiblingCannotBeWritten() throws {
    let scratch = try Scratch()
    let release = scratch.path + "/release"
    try FileManager.default.createDirectory(atPath: release, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: Pullwarden.binary.path, toPath: release + "/pullwarden")
    try FileManager.default.copyItem(atPath: (TwoFileRelease.isTested ? TwoFileRelease.sibling : Pullwarden.binary).path, toPath: release + "/pullwarden-dynamic")
    let root = scratch.path + "/node"
    let plugins = "usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec"
    try FileManager.default.createDirectory(atPath: "\(root)/\(plugins)/pullwarden-dynamic", withIntermediateDirectories: true)
    try scratch.write("node/\(plugins)/pullwarden-dynamic/in-the-way", "x")
    let stopped = try Shell.run("scripts/install-node", ["--root", root, "--binary", release + "/pullwarden"])
    #expect(stopped.status == 1, "\(stopped.stdout)\(stopped.stderr)")
    #expect(stopped.stderr.hasSuffix("install-node: cannot install /\(plugins)/pullwarden-dynamic; stopped (files before it in the order are installed)\n"), "\(stopped.stderr)")
    #expect(!FileManager.default.fileExists(atPath: "\(root)/\(plugins)/pullwarden"))
    #expect(FileManager.default.fileExists(atPath: "\(root)/\(plugins)/pullwarden-dynamic/in-the-way"))
  }
}

/// Runs the repository's scripts and system tools.
enum Shell {
  static let repository = Pullwarden.fixtures.deletingLastPathComponent()

  /// Runs `program arguments...` in the repository; a relative program is a path in it.
  static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 300) throws -> Pullwarden.Result {
    let url = program.hasPrefix("/") ? URL(fileURLWithPath: program) : repository.appendingPathComponent(program)
    var env = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"]
    env.merge(environment) { $1 }
    let outcome = try ProcessRunner.run(url, arguments: arguments, stdin: Data(), environment: env, directory: repository, timeout: timeout)
    return Pullwarden.Result(outcome)
  }
}

/// A node's root filesystem in a scratch directory.
enum ScratchRoot {
  /// The installed config as the binary would read it on the node: its node paths (/etc/pullwarden,
  /// /var/lib/pullwarden) moved under `root`, written (0600) beside the scratch root, not in it.
  static func installedConfig(_ root: String, in scratch: Scratch) throws -> String {
    let text = try String(contentsOfFile: root + "/etc/pullwarden/config.yaml", encoding: .utf8)
      .replacingOccurrences(of: " /etc/pullwarden/", with: " " + root + "/etc/pullwarden/")
      .replacingOccurrences(of: " /var/lib/pullwarden", with: " " + root + "/var/lib/pullwarden")
    let path = scratch.path + "/installed-config.yaml"
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    return path
  }

  /// Makes `root` an empty system for dpkg whose database holds this machine's entries for `packages`.
  static func initialiseDpkg(_ root: String, with packages: [String]) throws {
    let admin = root + "/var/lib/dpkg"
    for directory in ["updates", "info", "triggers"] {
      try FileManager.default.createDirectory(atPath: admin + "/" + directory, withIntermediateDirectories: true)
    }
    var status = ""
    for package in packages {
      let entry = try Shell.run("/usr/bin/dpkg-query", ["-s", package])
      try #require(entry.status == 0, "\(package) is not installed here")
      status += entry.stdout.trimmingCharacters(in: .newlines) + "\n\n"
      let architecture = entry.stdout.split(separator: "\n").first { $0.hasPrefix("Architecture: ") }?.dropFirst(14) ?? "all"
      let list = architecture == "all" ? package : "\(package):\(architecture)"
      FileManager.default.createFile(atPath: admin + "/info/\(list).list", contents: Data())
    }
    try status.write(toFile: admin + "/status", atomically: true, encoding: .utf8)
    FileManager.default.createFile(atPath: admin + "/available", contents: Data())
  }

  /// dpkg on `root`, with the maintainer scripts run outside a chroot (the scratch root has no shell)
  /// and DPKG_ROOT set, which they honour.
  static func dpkg(_ root: String, _ arguments: [String]) throws -> Pullwarden.Result {
    try Shell.run("/usr/bin/dpkg", ["--root=\(root)", "--force-script-chrootless", "--log=/dev/null"] + arguments)
  }

  /// `mode owner group path` (or `mode owner group path -> target`) for everything under `root` but
  /// dpkg's database, sorted by path.
  static func listing(_ root: String) throws -> [String] {
    let found = try Shell.run("/usr/bin/find", [root, "-mindepth", "1", "(", "-path", root + "/var/lib/dpkg", "-prune", ")", "-o", "-printf", "%M %u %g %P\n"])
    try #require(found.status == 0, "\(found.stderr)")
    return found.stdout.split(separator: "\n").map(String.init)
      .filter { !$0.hasSuffix(" var/lib/dpkg") }
      .sorted { $0.split(separator: " ")[3] < $1.split(separator: " ")[3] }
  }

  /// Checks that the installed front end finds its sibling where and as the hand-off looks for it:
  /// pullwarden-dynamic in the directory of the front end's resolved path (what /proc/self/exe names
  /// when the kubelet or /usr/bin/pullwarden runs it), a regular file of root's that neither group nor
  /// others can write, in a directory they cannot write either; the front end static (no program
  /// interpreter) and the sibling dynamic, so they are not swapped; both the same build (`version`,
  /// what the installed front end printed for --version).
  static func expectSiblingBesideFrontEnd(in root: String, version: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let resolvedRoot = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
    let frontEnd = URL(fileURLWithPath: root + "/usr/bin/pullwarden").resolvingSymlinksInPath()
    #expect(frontEnd.path == resolvedRoot + "/" + PackageEndToEndTests.pluginDirectory + "/pullwarden", sourceLocation: sourceLocation)
    let directory = frontEnd.deletingLastPathComponent().path
    let sibling = directory + "/pullwarden-dynamic"
    for path in [directory, sibling] {
      let attributes = try FileManager.default.attributesOfItem(atPath: path)
      let mode = try #require(attributes[.posixPermissions] as? Int, sourceLocation: sourceLocation)
      #expect((attributes[.ownerAccountID] as? Int) == 0, "\(path) is not root's", sourceLocation: sourceLocation)
      #expect(mode & 0o022 == 0, "\(path) is writable by group or others (\(String(mode, radix: 8)))", sourceLocation: sourceLocation)
      let type = attributes[.type] as? FileAttributeType
      #expect(type == (path == directory ? .typeDirectory : .typeRegular), "\(path) is \(String(describing: type))", sourceLocation: sourceLocation)
    }
    for (path, dynamic) in [(frontEnd.path, false), (sibling, true)] {
      let headers = try Shell.run("/usr/bin/readelf", ["-lW", path])
      #expect(headers.status == 0, "\(headers.stderr)", sourceLocation: sourceLocation)
      #expect(headers.stdout.contains("Requesting program interpreter") == dynamic,
              "\(path) should be \(dynamic ? "dynamically" : "statically") linked", sourceLocation: sourceLocation)
    }
    let siblingVersion = try Pullwarden.run(["--version"], binary: URL(fileURLWithPath: sibling))
    #expect(siblingVersion.status == 0 && siblingVersion.stdout == version, "\(siblingVersion.stdout)\(siblingVersion.stderr)", sourceLocation: sourceLocation)
  }

  /// The installed front end hands a call with an HTTPS source over to the installed sibling, through
  /// /usr/bin/pullwarden as an operator would run it: a tokenExchange source whose endpoint nobody
  /// listens on (port 9) fails to connect, which only pullwarden-dynamic gets as far as (the static
  /// front end without its sibling says that it is missing, and writes nothing).
  static func expectHandOff(to root: String, in scratch: Scratch, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let config = try scratch.write(
      "hand-off/config.yaml",
      """
      recordsDir: records
      sources:
        - {name: exchange, type: tokenExchange, matchImages: ["registry.example.com"],
           endpoint: "https://127.0.0.1:9/token", audience: registry.example.com, username: oauth2}
      """)
    let folder = URL(fileURLWithPath: config).deletingLastPathComponent().path
    let stdin = request(
      image: "registry.example.com/team/app", extra: ",\"serviceAccountToken\":\"\(makeJWT(expiresIn: 3600))\",\"serviceAccountAnnotations\":{}")
    let result = try Pullwarden.run(
      ["provide", "--config", "config.yaml"], stdin: stdin, in: folder, binary: URL(fileURLWithPath: root + "/usr/bin/pullwarden"),
      sourceLocation: sourceLocation)
    #expect(result.status == 3 && result.stdout.isEmpty, "\(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.hasPrefix("pullwarden: token exchange failed: cannot connect"), "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(!FileManager.default.fileExists(atPath: folder + "/records"), sourceLocation: sourceLocation)
  }

  /// Checks that `root` holds exactly the expected files (and no others), each root's with its mode;
  /// directories that only lead to them are root's and 0755.
  static func expectFiles(in root: String, packaged: Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var expected: [String: String] = [:]
    for file in PackageEndToEndTests.expectedFiles where packaged ? !file.installNodeOnly : !file.packageOnly {
      expected[file.path] = file.mode
    }
    var seen: Set<String> = []
    for line in try listing(root) {
      let fields = line.split(separator: " ", maxSplits: 3).map(String.init)
      let (mode, owner, group, path) = (fields[0], fields[1], fields[2], fields[3])
      #expect(owner == "root" && group == "root", "\(path) is \(owner):\(group)", sourceLocation: sourceLocation)
      if let wanted = expected[path] {
        #expect(mode == wanted, "\(path) has mode \(mode), not \(wanted)", sourceLocation: sourceLocation)
        seen.insert(path)
      } else if mode.hasPrefix("d") {
        let leadsToExpected = expected.keys.contains { $0.hasPrefix(path + "/") } || path.hasPrefix("var/lib/systemd")
        #expect(leadsToExpected && mode == "drwxr-xr-x", "unexpected directory \(path) (\(mode))", sourceLocation: sourceLocation)
      } else if path.hasPrefix("var/lib/systemd/deb-systemd-helper-enabled/") {
        // deb-systemd-helper's own record that it enabled the timer (the package only).
        #expect(packaged, "\(path)", sourceLocation: sourceLocation)
      } else {
        Issue.record("unexpected file \(path) (\(mode))", sourceLocation: sourceLocation)
      }
    }
    #expect(Set(expected.keys).subtracting(seen).isEmpty, "missing: \(Set(expected.keys).subtracting(seen).sorted())", sourceLocation: sourceLocation)
    let link = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/usr/bin/pullwarden")
    #expect(link == "../libexec/kubernetes/kubelet-plugins/credential-provider/exec/pullwarden", sourceLocation: sourceLocation)
    let timer = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/etc/systemd/system/timers.target.wants/pullwarden-records-gc.timer")
    #expect(timer == "/lib/systemd/system/pullwarden-records-gc.timer", sourceLocation: sourceLocation)
  }
}

/// The README, whose install and roll-out steps the tests follow.
enum Readme {
  /// Fails unless the README section starting with the `heading` line contains every one of `lines`.
  static func expect(section heading: String, contains lines: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let readme = try String(contentsOf: Shell.repository.appendingPathComponent("README.md"), encoding: .utf8)
    let start = try #require(readme.range(of: "\n" + heading + "\n"), "README has no \(heading)", sourceLocation: sourceLocation)
    let level = heading.prefix { $0 == "#" }
    let rest = readme[start.upperBound...]
    let end = rest.range(of: "\n" + level + " ")?.lowerBound ?? rest.endIndex
    let section = rest[..<end]
    for line in lines {
      #expect(section.contains(line), "README \(heading) does not say: \(line)", sourceLocation: sourceLocation)
    }
  }
}
