import FixtureKit
import Foundation
import Testing

/// The README's "Roll out to a cluster": deploy/'s manifests validated against the Kubernetes schemas
/// (kubernetes-validate, from scripts/install-deps --test), the kustomize builds, the Containerfile's
/// build context, and the node installer the DaemonSet runs, against scratch host roots laid out as
/// kubeadm and plain systemd nodes.
@Suite struct DeployEndToEndTests {
  static let deploy = Shell.repository.appendingPathComponent("deploy")
  static let installer = "deploy/installer/pullwarden-node-installer"
  static let pluginBinary = "usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/pullwarden"
  static let pluginSibling = "usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/pullwarden-dynamic"
  static let flags = "--image-credential-provider-config=/etc/kubernetes/pullwarden-credential-providers.yaml"
    + " --image-credential-provider-bin-dir=/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec"

  static let kubernetesValidate: String? = {
    let environment = ProcessInfo.processInfo.environment
    let cache = environment["XDG_CACHE_HOME"].map { $0 + "/pullwarden" } ?? NSHomeDirectory() + "/.cache/pullwarden"
    let candidates = [cache + "/kubernetes-validate/bin/kubernetes-validate"]
      + (environment["PATH"] ?? "").split(separator: ":").map { $0 + "/kubernetes-validate" }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
  }()
  static let kubectl: String? = ["/usr/local/bin/kubectl", "/usr/bin/kubectl"].first { FileManager.default.isExecutableFile(atPath: $0) }

  /// The release as the image holds it: the front end the installer's --binary names, with
  /// pullwarden-dynamic beside it. That is the tested binary's own folder when scripts/build-release
  /// put the sibling there (PULLWARDEN_BIN); otherwise a scratch folder where links to the debug build
  /// (dynamically linked, like the sibling) stand in for both files.
  static func release(in scratch: Scratch) throws -> String {
    let tested = Pullwarden.binary.resolvingSymlinksInPath()
    if FileManager.default.isExecutableFile(atPath: tested.deletingLastPathComponent().appendingPathComponent("pullwarden-dynamic").path) {
      return tested.path
    }
    let folder = scratch.path + "/release"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for name in ["pullwarden", "pullwarden-dynamic"] {
      do { try FileManager.default.linkItem(atPath: tested.path, toPath: folder + "/" + name) }
      catch { try FileManager.default.copyItem(atPath: tested.path, toPath: folder + "/" + name) }
    }
    return folder + "/pullwarden"
  }

  /// Every Kubernetes object file under deploy/ (the kustomization files have no Kubernetes schema).
  static func manifestFiles() throws -> [String] {
    let files = try #require(FileManager.default.subpaths(atPath: deploy.path))
    // deploy/prometheus holds Prometheus rule files, not Kubernetes objects: promtool checks them (ObserveTests).
    return files.filter { $0.hasSuffix(".yaml") && !$0.hasSuffix("kustomization.yaml") && !$0.hasPrefix("prometheus/") }.sorted().map { "deploy/" + $0 }
  }

  /// Runs kubernetes-validate --strict on `file` and expects every document in it to pass, against the
  /// newest schemas it bundles and against 1.33, the oldest kubelet with KEP-4412 tokens.
  static func expectValid(_ file: String, documents: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
    for version in [nil, "1.33.0"] {
      try expectValid(file, documents: documents, kubernetesVersion: version, sourceLocation: sourceLocation)
    }
  }

  static func expectValid(_ file: String, documents: Int?, kubernetesVersion: String?, sourceLocation: SourceLocation) throws {
    let validate = try #require(kubernetesValidate)
    let result = try Shell.run(validate, ["--strict"] + (kubernetesVersion.map { ["-k", $0] } ?? []) + [file])
    #expect(result.status == 0, "\(file): \(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
    #expect(!result.stdout.contains("WARN") && !result.stdout.contains("ERROR"), "\(result.stdout)", sourceLocation: sourceLocation)
    let text = try String(contentsOfFile: file.hasPrefix("/") ? file : Shell.repository.appendingPathComponent(file).path, encoding: .utf8)
    let expected = documents ?? text.components(separatedBy: "\n---\n").filter { $0.contains("\nkind: ") || $0.hasPrefix("kind: ") }.count
    let passed = result.stdout.components(separatedBy: " passed for resource ").count - 1
    #expect(passed == expected, "\(file): \(passed) of \(expected) objects passed: \(result.stdout)", sourceLocation: sourceLocation)
  }

  @Test(.enabled(if: kubernetesValidate != nil, "kubernetes-validate is missing: run scripts/install-deps --test"))
  func everyManifestMatchesTheKubernetesSchemas() throws {
    let files = try Self.manifestFiles()
    #expect(files == [
      "deploy/configmap.yaml", "deploy/daemonset.yaml", "deploy/namespace.yaml", "deploy/rbac-kubernetes-secrets.yaml",
      "deploy/rbac-node-audience.yaml", "deploy/serviceaccount.yaml", "deploy/uninstall/daemonset.yaml",
    ])
    for file in files { try Self.expectValid(file) }

    // The check can fail: a misspelt field is refused.
    let scratch = try Scratch()
    let daemonSet = try String(contentsOf: Self.deploy.appendingPathComponent("daemonset.yaml"), encoding: .utf8)
    let broken = try scratch.write("broken.yaml", daemonSet.replacingOccurrences(of: "nodeSelector:", with: "nodeSelecter:"))
    let refused = try Shell.run(try #require(Self.kubernetesValidate), ["--strict", broken])
    #expect(refused.status != 0 && refused.stdout.contains("nodeSelecter"), "\(refused.stdout)")
  }

  @Test(.enabled(if: kubernetesValidate != nil && kubectl != nil, "needs kubernetes-validate (scripts/install-deps --test) and kubectl"))
  func kustomizeBuildsValidateWithAndWithoutTheRestartComponent() throws {
    let kubectl = try #require(Self.kubectl)
    let scratch = try Scratch()
    let base = try Shell.run(kubectl, ["kustomize", "deploy/"])
    #expect(base.status == 0, "\(base.stderr)")
    try Self.expectValid(try scratch.write("base.yaml", base.stdout), documents: 7)
    #expect(!base.stdout.contains("hostPID") && !base.stdout.contains("privileged: true"))
    #expect(base.stdout.contains("RESTART_KUBELET: \"false\""))

    let uninstall = try Shell.run(kubectl, ["kustomize", "deploy/uninstall/"])
    #expect(uninstall.status == 0, "\(uninstall.stderr)")
    try Self.expectValid(try scratch.write("uninstall.yaml", uninstall.stdout), documents: 1)

    // README: the restart component from an overlay outside deploy/.
    let copy = try Shell.run("/bin/cp", ["-r", Self.deploy.path, scratch.path + "/deploy"])
    #expect(copy.status == 0)
    try scratch.write("overlay/kustomization.yaml", "resources: [../deploy]\ncomponents: [../deploy/components/restart-kubelet]\n")
    let restart = try Shell.run(kubectl, ["kustomize", scratch.path + "/overlay"])
    #expect(restart.status == 0, "\(restart.stderr)")
    try Self.expectValid(try scratch.write("restart.yaml", restart.stdout), documents: 7)
    #expect(restart.stdout.contains("hostPID: true") && restart.stdout.contains("privileged: true"))
    #expect(restart.stdout.contains("RESTART_KUBELET: \"true\""))
  }

  @Test func rbacGrantsTheNodeAudienceAndTheSecretReads() throws {
    let audience = try String(contentsOf: Self.deploy.appendingPathComponent("rbac-node-audience.yaml"), encoding: .utf8)
    // The audience is the resource (not a resourceName), granted to the nodes' group.
    #expect(audience.contains("verbs: [\"request-serviceaccounts-token-audience\"]\n    resources: [\"https://kubernetes.default.svc\"]"))
    #expect(audience.contains("kind: Group\n    name: system:nodes"))
    let secrets = try String(contentsOf: Self.deploy.appendingPathComponent("rbac-kubernetes-secrets.yaml"), encoding: .utf8)
    #expect(secrets.contains("resources: [\"serviceaccounts\"]\n    verbs: [\"get\"]"))
    #expect(secrets.contains("resources: [\"secrets\"]\n    verbs: [\"get\"]"))
    let daemonSet = try String(contentsOf: Self.deploy.appendingPathComponent("daemonset.yaml"), encoding: .utf8)
    #expect(daemonSet.contains("nodeSelector:\n        pullwarden.dev/install: \"true\""))
    #expect(daemonSet.contains("automountServiceAccountToken: false"))
  }

  /// No container engine runs here, so the image is not built: the test makes the build context as the
  /// README's step 1 does and checks that every COPY in the Containerfile names a file in it.
  @Test func containerfileCopiesOnlyWhatTheReadmesBuildContextHolds() throws {
    try Readme.expect(section: "## Roll out to a cluster", contains: [
      #"mkdir -p .build/image && cp "$(scripts/build-release)" .build/install/pullwarden-dynamic deploy/installer/pullwarden-node-installer .build/image/"#,
      "docker build -f deploy/Containerfile -t registry.example.com/pullwarden/node-installer:0.1.0 .build/image",
      "kubectl apply -k deploy/", "kubectl label node node-1 pullwarden.dev/install=true",
      "kubectl apply -k deploy/uninstall/", "kubectl label node node-1 pullwarden.dev/install=uninstall --overwrite",
    ])
    let scratch = try Scratch()
    let context = scratch.path + "/image"
    // The README's line with the release's folder for .build/install.
    let binary = try Self.release(in: scratch)
    let made = try Shell.run("/bin/sh", [
      "-c", "mkdir -p \"$1\" && cp \"$2\" \"$3\"/pullwarden-dynamic deploy/installer/pullwarden-node-installer \"$1\"/",
      "sh", context, binary, URL(fileURLWithPath: binary).deletingLastPathComponent().path,
    ])
    #expect(made.status == 0, "\(made.stderr)")
    let containerfile = try String(contentsOf: Self.deploy.appendingPathComponent("Containerfile"), encoding: .utf8)
    let copies = containerfile.split(separator: "\n").filter { $0.hasPrefix("COPY ") }
    #expect(copies.count == 3)
    var destinations: [String] = []
    for copy in copies {
      let words = copy.split(separator: " ").filter { !$0.hasPrefix("--") }.map(String.init)
      try #require(words.count == 3, "\(copy)")
      #expect(FileManager.default.fileExists(atPath: context + "/" + words[1]), "COPY \(words[1]) is not in the build context")
      destinations.append(words[2])
    }
    // The installer's default --binary, with its sibling in the same folder, and the installer the
    // DaemonSets run.
    #expect(destinations.sorted() == ["/opt/pullwarden/pullwarden", "/opt/pullwarden/pullwarden-dynamic", "/usr/local/bin/pullwarden-node-installer"])
    #expect(try String(contentsOfFile: Shell.repository.appendingPathComponent(Self.installer).path, encoding: .utf8).contains("\nbinary=/opt/pullwarden/pullwarden\n"))
    for name in ["daemonset.yaml", "uninstall/daemonset.yaml"] {
      let manifest = try String(contentsOf: Self.deploy.appendingPathComponent(name), encoding: .utf8)
      #expect(manifest.contains("\"pullwarden-node-installer\", \"install\"") || manifest.contains("pullwarden-node-installer uninstall"))
    }
  }

  // MARK: The installer on scratch host roots

  /// A node's root with the installer's inputs (the ConfigMap's files) beside it.
  final class Host {
    let scratch: Scratch
    let root: String
    let source: String
    /// The installer's --binary: the release's front end, pullwarden-dynamic beside it.
    let binary: String

    init(files: [String: String]) throws {
      scratch = try Scratch()
      root = scratch.path + "/host"
      source = scratch.path + "/source"
      binary = try DeployEndToEndTests.release(in: scratch)
      try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
      for (path, contents) in files { try scratch.write("host/" + path, contents) }
      let configMap = try String(contentsOf: DeployEndToEndTests.deploy.appendingPathComponent("configmap.yaml"), encoding: .utf8)
      try scratch.write("source/config.yaml", Self.block("config.yaml", in: configMap))
      try scratch.write("source/credential-provider-config.yaml", Self.block("credential-provider-config.yaml", in: configMap))
    }

    /// The literal block `key: |` of the ConfigMap, unindented.
    static func block(_ key: String, in configMap: String) -> String {
      let lines = configMap.components(separatedBy: "\n")
      guard let start = lines.firstIndex(of: "  \(key): |") else { return "" }
      return lines[(start + 1)...].prefix { $0.hasPrefix("    ") || $0.isEmpty }.map { String($0.dropFirst(4)) }.joined(separator: "\n")
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Pullwarden.Result {
      let action = arguments[0]
      var full = [action, "--host-root", root] + arguments.dropFirst()
      if action != "uninstall" { full += ["--binary", binary, "--source", source] }
      return try Shell.run(DeployEndToEndTests.installer, full, environment: environment)
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: root + "/" + path, encoding: .utf8) }
    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: root + "/" + path) }

    /// Every regular file and link under the host root with its contents.
    func files() throws -> [String: String] {
      var result: [String: String] = [:]
      for path in try FileManager.default.subpathsOfDirectory(atPath: root) {
        var isDirectory: ObjCBool = false
        FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory)
        if !isDirectory.boolValue { result[path] = (try? read(path)) ?? "<binary>" }
      }
      return result
    }
  }

  static let kubeadmDropIn = """
    [Service]
    Environment="KUBELET_KUBECONFIG_ARGS=--kubeconfig=/etc/kubernetes/kubelet.conf"
    EnvironmentFile=-/etc/default/kubelet
    ExecStart=
    ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_EXTRA_ARGS

    """

  @Test func kubeadmNodeGetsTheFlagsInItsEnvFileAndGetsItBackExactly() throws {
    let original = "# kubelet extras\nKUBELET_EXTRA_ARGS=--node-ip=10.0.0.5\n"
    let host = try Host(files: [
      "etc/systemd/system/kubelet.service.d/10-kubeadm.conf": Self.kubeadmDropIn, "etc/default/kubelet": original,
    ])
    let before = try host.files()
    let installed = try host.run(["install"])
    #expect(installed.status == 0, "\(installed.stderr)")
    #expect(installed.stdout.contains("added the credential-provider flags to KUBELET_EXTRA_ARGS in /etc/default/kubelet"))
    #expect(installed.stdout.contains("the kubelet loads the change when it restarts"), "never restarts unless asked")
    // The sibling goes in before the front end the kubelet calls.
    let wroteSibling = try #require(installed.stdout.range(of: "wrote /\(Self.pluginSibling) (mode 0755)\n"))
    let wroteFrontEnd = try #require(installed.stdout.range(of: "wrote /\(Self.pluginBinary) (mode 0755)\n"))
    #expect(wroteSibling.lowerBound < wroteFrontEnd.lowerBound, "\(installed.stdout)")
    #expect(try host.read("etc/default/kubelet") == "# kubelet extras\nKUBELET_EXTRA_ARGS=\"--node-ip=10.0.0.5 \(Self.flags)\"\n")
    #expect(host.exists(Self.pluginBinary) && host.exists(Self.pluginSibling) && host.exists("etc/pullwarden/config.yaml"))
    // The sibling is the release's pullwarden-dynamic, not a second copy of the front end.
    let release = URL(fileURLWithPath: host.binary).deletingLastPathComponent().path
    #expect(FileManager.default.contentsEqual(atPath: host.root + "/" + Self.pluginSibling, andPath: release + "/pullwarden-dynamic"))
    #expect(FileManager.default.contentsEqual(atPath: host.root + "/" + Self.pluginBinary, andPath: host.binary))
    #expect(try host.read("etc/kubernetes/pullwarden-credential-providers.yaml").contains("name: pullwarden\n"))
    #expect(!host.exists("etc/systemd/system/kubelet.service.d/90-pullwarden.conf"))
    for (path, mode) in [(Self.pluginBinary, 0o755), (Self.pluginSibling, 0o755), ("etc/pullwarden", 0o750), ("etc/pullwarden/config.yaml", 0o600), ("var/lib/pullwarden", 0o700)] {
      let attributes = try FileManager.default.attributesOfItem(atPath: host.root + "/" + path)
      #expect((attributes[.posixPermissions] as? Int) == mode, "\(path)")
    }

    let again = try host.run(["install"])
    #expect(again.status == 0)
    #expect(again.stdout == "pullwarden-node-installer: nothing to change: Pullwarden is installed and wired (kubeadm)\n", "\(again.stdout)")

    // Rollback: the wiring goes at once, the binary once the kubelet runs without the flags.
    let uninstalled = try host.run(["uninstall"])
    #expect(uninstalled.status == 0, "\(uninstalled.stderr)")
    #expect(try host.read("etc/default/kubelet") == original)
    #expect(!host.exists("etc/kubernetes/pullwarden-credential-providers.yaml"))
    #expect(host.exists(Self.pluginBinary) && host.exists(Self.pluginSibling), "the running kubelet may still call them")
    #expect(uninstalled.stdout.contains("kept /usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/pullwarden and pullwarden-dynamic"), "\(uninstalled.stdout)")

    try host.scratch.write("proc/1234/comm", "kubelet\n")
    try host.scratch.write("proc/1234/cmdline", "/usr/bin/kubelet\0--node-ip=10.0.0.5\0" + Self.flags.replacingOccurrences(of: " ", with: "\0") + "\0")
    let waiting = try host.run(["uninstall", "--after-kubelet-restart", "--proc", host.scratch.path + "/proc"])
    #expect(waiting.status == 75)
    #expect(host.exists(Self.pluginBinary) && host.exists(Self.pluginSibling))
    try host.scratch.write("proc/1234/cmdline", "/usr/bin/kubelet\0--node-ip=10.0.0.5\0")
    let restarted = try host.run(["uninstall", "--after-kubelet-restart", "--proc", host.scratch.path + "/proc"])
    #expect(restarted.status == 0, "\(restarted.stderr)")
    #expect(!host.exists(Self.pluginBinary) && !host.exists(Self.pluginSibling))
    // The front end goes out first, so it is never left without its sibling.
    let removedFrontEnd = try #require(restarted.stdout.range(of: "removed /\(Self.pluginBinary)\n"))
    let removedSibling = try #require(restarted.stdout.range(of: "removed /\(Self.pluginSibling)\n"))
    #expect(removedFrontEnd.lowerBound < removedSibling.lowerBound, "\(restarted.stdout)")

    let purged = try host.run(["uninstall", "--purge"])
    #expect(purged.status == 0)
    #expect(try host.files() == before)
  }

  @Test func kubeadmEnvFileEditedSinceKeepsTheEditAndLosesOnlyTheFlags() throws {
    let host = try Host(files: ["etc/systemd/system/kubelet.service.d/10-kubeadm.conf": Self.kubeadmDropIn, "etc/default/kubelet": "KUBELET_EXTRA_ARGS=\n"])
    #expect(try host.run(["install"]).status == 0)
    #expect(try host.read("etc/default/kubelet") == "KUBELET_EXTRA_ARGS=\"\(Self.flags)\"\n")
    try (try host.read("etc/default/kubelet") + "# edited\n").write(toFile: host.root + "/etc/default/kubelet", atomically: true, encoding: .utf8)
    #expect(try host.run(["uninstall"]).status == 0)
    #expect(try host.read("etc/default/kubelet") == "KUBELET_EXTRA_ARGS=\"\"\n# edited\n")
  }

  @Test func systemdNodeGetsADropInRepeatingItsExecStart() throws {
    let unit = "[Unit]\nDescription=kubelet\n[Service]\nExecStart=/usr/local/bin/kubelet \\\n  --config=/var/lib/kubelet/config.yaml\nRestart=always\n"
    let host = try Host(files: ["lib/systemd/system/kubelet.service": unit])
    let before = try host.files()
    let installed = try host.run(["install"])
    #expect(installed.status == 0, "\(installed.stderr)")
    let dropIn = try host.read("etc/systemd/system/kubelet.service.d/90-pullwarden.conf")
    #expect(dropIn.hasSuffix("[Service]\nExecStart=\nExecStart=/usr/local/bin/kubelet    --config=/var/lib/kubelet/config.yaml \(Self.flags)\n"), "\(dropIn)")
    let again = try host.run(["install"])
    #expect(again.stdout.contains("nothing to change") && again.stdout.contains("(systemd-dropin)"), "\(again.stdout)")
    #expect(try host.run(["uninstall", "--remove-binary", "--purge"]).status == 0)
    #expect(try host.files() == before)
  }

  @Test func anotherProviderConfigOrABadConfigLeavesTheNodeAsItWas() throws {
    let foreign = "KUBELET_EXTRA_ARGS=\"--image-credential-provider-config=/etc/eks/config.json\"\n"
    let host = try Host(files: ["etc/default/kubelet": foreign])
    let before = try host.files()
    let refused = try host.run(["install"])
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("already passes the kubelet another --image-credential-provider-config"), "\(refused.stderr)")
    #expect(try host.files() == before)
    #expect(!host.exists("etc/pullwarden") && !host.exists("usr"))

    let node = try Host(files: ["etc/default/kubelet": "KUBELET_EXTRA_ARGS=\n"])
    #expect(try node.run(["install"]).status == 0)
    let good = try node.read("etc/pullwarden/config.yaml")
    try node.scratch.write("source/config.yaml", "sources: []\nunknownKey: 1\n")
    let bad = try node.run(["install"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("the new config.yaml is invalid; the node keeps its old one"), "\(bad.stderr)")
    #expect(try node.read("etc/pullwarden/config.yaml") == good)
    #expect(!node.exists("etc/pullwarden/.config.yaml.new"))
  }

  /// An image or --binary without pullwarden-dynamic beside the front end would leave the node's
  /// HTTPS sources failing: the installer refuses it before it writes anything.
  @Test func aFrontEndWithoutItsSiblingLeavesTheNodeAsItWas() throws {
    let host = try Host(files: ["etc/default/kubelet": "KUBELET_EXTRA_ARGS=\n"])
    let alone = host.scratch.path + "/alone/pullwarden"
    try FileManager.default.createDirectory(atPath: host.scratch.path + "/alone", withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: host.binary, toPath: alone)
    let before = try host.files()
    let refused = try Shell.run(Self.installer, ["install", "--host-root", host.root, "--binary", alone, "--source", host.source])
    #expect(refused.status == 2, "\(refused.stdout)\(refused.stderr)")
    #expect(refused.stderr == "pullwarden-node-installer: \(host.scratch.path)/alone/pullwarden-dynamic is missing: HTTPS calls need it beside \(alone) (the image holds both)\n", "\(refused.stderr)")
    #expect(try host.files() == before)
    #expect(!host.exists("etc/pullwarden") && !host.exists("usr"))
  }

  /// A sibling that cannot be written (here a directory stands in its place; a full disk fails the
  /// same step) stops the install before the front end is written: the kubelet never runs a new
  /// front end beside a missing or truncated sibling.
  @Test func aSiblingThatCannotBeWrittenStopsTheInstallBeforeTheFrontEnd() throws {
    let host = try Host(files: ["etc/default/kubelet": "KUBELET_EXTRA_ARGS=\n", Self.pluginSibling + "/in-the-way": "x"])
    let stopped = try host.run(["install"])
    #expect(stopped.status == 2, "\(stopped.stdout)\(stopped.stderr)")
    #expect(stopped.stderr.contains("pullwarden-node-installer: cannot write /\(Self.pluginSibling)"), "\(stopped.stderr)")
    #expect(!host.exists(Self.pluginBinary))
    #expect(try host.read(Self.pluginSibling + "/in-the-way") == "x")
  }

  @Test func noKubeletUnitMeansFilesOnly() throws {
    let host = try Host(files: [:])
    let installed = try host.run(["install"])
    #expect(installed.status == 0, "\(installed.stderr)")
    #expect(host.exists(Self.pluginBinary) && host.exists(Self.pluginSibling) && !host.exists("etc/default/kubelet"))
    #expect(try host.run(["install"]).stdout.contains("(none)"))
  }
}
