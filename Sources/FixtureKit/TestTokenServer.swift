import Foundation

/// The local HTTPS token service the token-source tests and fixture cases run against
/// (`Resources/token-server.py`: RFC 8693 exchange, registry token flow, CONNECT proxy, fault injection).
///
/// It needs `python3` and the `openssl` CLI. Certificates are made fresh at start in a temporary folder;
/// nothing private is committed. The server listens on 127.0.0.1 and ::1 only and exits by itself when
/// this process closes its standard input (`stop()`, deinit, or this process ending) or after 30 minutes.
///
/// Programs reach it by name, as a node reaches its token service: where `PrivateHosts` works, `url` is
/// `https://sts.pullwarden.test:PORT` and such programs must be run with `resolvingTestNames`. Code
/// running inside the test process itself (which cannot enter a mount namespace) uses `ipURL`.
public final class TestTokenServer: @unchecked Sendable {
  /// `https://sts.pullwarden.test:PORT` (server certificate only), or `ipURL` where names cannot resolve.
  public let url: String
  /// `https://127.0.0.1:PORT`, the same server.
  public let ipURL: String
  /// `https://[::1]:PORT`, the same server and port over IPv6.
  public let ipv6URL: String
  /// The port of `url`, `ipURL` and `ipv6URL`.
  public let port: Int
  /// `https://sts.pullwarden.test:PORT` (or 127.0.0.1) that requires a client certificate.
  public let mtlsURL: String
  /// `https://127.0.0.1:PORT` that requires a client certificate.
  public let mtlsIPURL: String
  /// `http://proxy.pullwarden.test:PORT` (or 127.0.0.1), a CONNECT proxy that tunnels to loopback and to
  /// the test names, `PrivateHosts.proxyOnlyName` included.
  public let proxyURL: String
  public let caFile: String
  /// A CA that did not sign the server's certificate.
  public let wrongCAFile: String
  public let clientCertFile: String
  public let clientKeyFile: String
  /// One JSON object per request received (subject tokens only as SHA-256).
  public let logFile: String
  public let directory: URL

  private let process: Process
  private let input: Pipe
  private let lock = NSLock()
  private var stopped = false

  /// Fixture variables: `${TOKEN_SERVER}`, `${TOKEN_SERVER_CA}`, `${TOKEN_SERVER_WRONG_CA}`,
  /// `${TOKEN_SERVER_MTLS}`, `${TOKEN_SERVER_CLIENT_CERT}`, `${TOKEN_SERVER_CLIENT_KEY}`, `${TOKEN_PROXY}`,
  /// `${TOKEN_SERVER_PORT}` (URLs by name where `PrivateHosts` works; the fixture runner then resolves them).
  public var variables: [String: String] {
    [
      "TOKEN_SERVER": url, "TOKEN_SERVER_CA": caFile, "TOKEN_SERVER_WRONG_CA": wrongCAFile, "TOKEN_SERVER_MTLS": mtlsURL,
      "TOKEN_SERVER_CLIENT_CERT": clientCertFile, "TOKEN_SERVER_CLIENT_KEY": clientKeyFile, "TOKEN_PROXY": proxyURL,
      "TOKEN_SERVER_PORT": String(port),
    ]
  }

  public struct StartError: Error, CustomStringConvertible {
    public var description: String
  }

  /// The server script shipped as a FixtureKit resource.
  public static var script: URL? { Bundle.module.url(forResource: "token-server", withExtension: "py") }

  /// Starts a server and waits (up to 60 s) for it to report its addresses.
  public init() throws {
    guard let script = Self.script else { throw StartError(description: "token-server.py is missing from FixtureKit's resources") }
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("pullwarden-token-server-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script.path, "--dir", directory.path, "--lifetime", "1800"]
    input = Pipe()
    let output = Pipe()
    // stderr goes to a file: a pipe nobody drains could fill up and stall the server.
    let errorPath = directory.appendingPathComponent("server.stderr")
    _ = FileManager.default.createFile(atPath: errorPath.path, contents: nil)
    let errors = try FileHandle(forWritingTo: errorPath)
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    do {
      try process.run()
    } catch {
      throw StartError(description: "cannot run python3 for the token test server: \(error)")
    }
    // The first line of stdout is the JSON with addresses and paths.
    let reader = output.fileHandleForReading
    let line = ReadLine()
    DispatchQueue.global().async { line.set(Self.firstLine(of: reader)) }
    guard let text = line.wait(seconds: 60), let data = text.data(using: .utf8),
      let info = try? JSONSerialization.jsonObject(with: data) as? [String: String],
      let url = info["url"], let url6 = info["url6"], let mtls = info["mtlsURL"], let proxy = info["proxyURL"],
      let ca = info["caFile"], let port = url.split(separator: ":").last.flatMap({ Int($0) }),
      let wrong = info["wrongCAFile"], let cert = info["clientCertFile"], let key = info["clientKeyFile"], let log = info["log"]
    else {
      process.terminate()
      process.waitUntilExit()
      let problem = (try? String(contentsOf: errorPath, encoding: .utf8)) ?? ""
      throw StartError(description: "the token test server did not start (python3 and openssl are needed): \(problem)")
    }
    // Programs under test reach the servers by name; the addresses stay for in-process clients.
    let named = { (address: String, name: String) in
      PrivateHosts.available ? address.replacingOccurrences(of: "127.0.0.1", with: name) : address
    }
    self.url = named(url, "sts.pullwarden.test")
    ipURL = url
    ipv6URL = url6
    self.port = port
    mtlsURL = named(mtls, "sts.pullwarden.test")
    mtlsIPURL = mtls
    proxyURL = named(proxy, "proxy.pullwarden.test")
    caFile = ca
    wrongCAFile = wrong
    clientCertFile = cert
    clientKeyFile = key
    logFile = log
  }

  /// One server for the whole process, started on first use (the test targets share it), or why it
  /// could not start.
  public static let shared = Result<TestTokenServer, any Error> { try TestTokenServer() }

  deinit { stop() }

  /// Stops the server (closing its stdin) and removes its folder.
  public func stop() {
    lock.lock()
    defer { lock.unlock() }
    guard !stopped else { return }
    stopped = true
    try? input.fileHandleForWriting.close()
    process.waitUntilExit()
    try? FileManager.default.removeItem(at: directory)
  }

  /// Every logged request, optionally only those of one scenario id.
  public func requests(scenario: String? = nil) -> [[String: Any]] {
    guard let text = try? String(contentsOfFile: logFile, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { line in
      guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
      if let scenario, entry["scenario"] as? String != scenario { return nil }
      return entry
    }
  }

  private static func firstLine(of handle: FileHandle) -> String? {
    var bytes = Data()
    while true {
      let chunk = handle.readData(ofLength: 1)
      if chunk.isEmpty { return nil }
      if chunk.first == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
      bytes.append(chunk)
    }
  }
}

/// A value handed from a reader thread to a waiter.
private final class ReadLine: @unchecked Sendable {
  private let semaphore = DispatchSemaphore(value: 0)
  private var value: String?

  func set(_ value: String?) {
    self.value = value
    semaphore.signal()
  }

  func wait(seconds: Double) -> String? {
    semaphore.wait(timeout: .now() + seconds) == .success ? value : nil
  }
}
