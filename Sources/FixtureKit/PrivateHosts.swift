import Foundation

/// Runs programs the way a node reaches its token services and API server: by DNS name.
///
/// A node resolves `sts.example.com` or `kubernetes.default.svc` through glibc's resolver (NSS, and
/// libcurl's threaded resolver on top), a path that IP literals never take. To exercise it without a
/// network, each program runs in a private mount namespace (`unshare -m`) where a generated hosts file
/// is bind-mounted over /etc/hosts, naming the loopback test servers, and a resolv.conf naming only
/// 127.0.0.1 over /etc/resolv.conf, so a name outside the hosts file (`*.invalid`) fails at once and no
/// query leaves this machine. The test's own process and the rest of the machine see nothing of it.
/// It needs root (or CAP_SYS_ADMIN); `available` says whether this machine allows it.
public enum PrivateHosts {
  /// The names that resolve to 127.0.0.1 inside; the token test server's certificate carries them all.
  public static let names = [
    "sts.pullwarden.test", "registry.pullwarden.test", "proxy.pullwarden.test", "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
  ]

  /// A name the test proxy can reach but programs inside cannot resolve: reaching it proves the proxy was used.
  public static let proxyOnlyName = "behind-proxy.pullwarden.test"

  /// Set to 1 where the tests must not fall back to IP addresses (scripts/test, CI): there a machine
  /// that cannot make a private mount namespace fails the suite instead of skipping the name tests.
  public static let requiredVariable = "PULLWARDEN_REQUIRE_PRIVATE_HOSTS"

  public static var isRequired: Bool { ProcessInfo.processInfo.environment[requiredVariable] == "1" }

  /// The generated hosts and resolv.conf files, written once per process.
  static let files: (hosts: String, resolver: String)? = {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pullwarden-hosts-\(UUID().uuidString)")
    let hosts = directory.appendingPathComponent("hosts").path
    let resolver = directory.appendingPathComponent("resolv.conf").path
    let hostsText = """
      127.0.0.1 localhost
      ::1 localhost ip6-localhost ip6-loopback
      127.0.0.1 \(names.joined(separator: " "))

      """
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      try hostsText.write(toFile: hosts, atomically: true, encoding: .utf8)
      try "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n".write(toFile: resolver, atomically: true, encoding: .utf8)
    } catch {
      return nil
    }
    return (hosts, resolver)
  }()

  /// Whether programs can be run with the test names resolving (checked once, by running `true` so).
  public static let available: Bool = {
    guard let outcome = try? ProcessRunner.run(
      URL(fileURLWithPath: "/bin/true"), arguments: [], stdin: Data(), environment: [:], timeout: 30, resolvingTestNames: true)
    else { return false }
    return outcome.status == 0 && outcome.signal == nil
  }()

  /// The command that runs `executable arguments...` with the test names resolving.
  static func wrap(_ executable: URL, arguments: [String]) -> (URL, [String]) {
    let mount = ["/usr/bin/mount", "/bin/mount", "/usr/sbin/mount", "/sbin/mount"].first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let files, let mount else { return (URL(fileURLWithPath: "/bin/false"), []) }
    // exec keeps the process id, so the caller sees the program's own exit status or signal.
    let script = """
      "$1" --bind "$2" /etc/hosts && "$1" --bind "$3" /etc/resolv.conf || {
        echo "private-hosts: cannot bind-mount the test hosts file over /etc/hosts (needs root and unshare -m)" >&2
        exit 125
      }
      shift 3
      exec "$@"
      """
    return (
      URL(fileURLWithPath: "/usr/bin/unshare"),
      ["--mount", "/bin/sh", "-c", script, "private-hosts", mount, files.hosts, files.resolver, executable.path] + arguments
    )
  }
}
