import Foundation

/// Runs a program to completion with given stdin, environment and working directory.
public enum ProcessRunner {
  public struct Outcome: Sendable {
    /// The exit status; for a program killed by a signal, the signal number (see `signal`).
    public var status: Int32
    public var stdout: Data
    public var stderr: Data
    public var timedOut: Bool
    /// The signal that ended the program, unless it was this runner's own kill after a time-out.
    public var signal: Int32?
  }

  /// Where `scripts/test` asks every signal death of the run to be noted (one line each), so that a
  /// crash in any process of the suite fails it even where the test that ran it looked elsewhere.
  public static let signalLedgerVariable = "PULLWARDEN_SIGNAL_LEDGER"

  /// The run's signal ledger, if it keeps one.
  public static var signalLedger: String? {
    ProcessInfo.processInfo.environment[signalLedgerVariable].flatMap { $0.isEmpty ? nil : $0 }
  }

  /// Runs `executable arguments...`; with `resolvingTestNames`, inside `PrivateHosts`. A signal death
  /// is noted in `signalLedger` (tests of the ledger itself give their own).
  public static func run(
    _ executable: URL, arguments: [String], stdin: Data, environment: [String: String],
    directory: URL? = nil, timeout: TimeInterval, resolvingTestNames: Bool = false, signalLedger: String? = signalLedger
  ) throws -> Outcome {
    let (program, programArguments) = resolvingTestNames ? PrivateHosts.wrap(executable, arguments: arguments) : (executable, arguments)
    let process = Process()
    process.executableURL = program
    process.arguments = programArguments
    process.environment = environment
    if let directory { process.currentDirectoryURL = directory }
    let input = Pipe(), output = Pipe(), error = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = error

    // Drain both pipes on their own threads so a chatty child cannot block on a full pipe.
    let collected = CollectedOutput()
    let group = DispatchGroup()
    for (pipe, isOut) in [(output, true), (error, false)] {
      group.enter()
      DispatchQueue.global().async {
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        collected.store(data, isStdout: isOut)
        group.leave()
      }
    }
    // A program may exit without reading all of its stdin (an early error); writing to the closed
    // pipe must then fail quietly instead of killing this process with SIGPIPE.
    signal(SIGPIPE, SIG_IGN)
    try process.run()
    DispatchQueue.global().async {
      try? input.fileHandleForWriting.write(contentsOf: stdin)
      try? input.fileHandleForWriting.close()
    }
    let deadline = DispatchTime.now() + timeout
    var timedOut = false
    if group.wait(timeout: deadline) == .timedOut {
      timedOut = true
      process.terminate()
      kill(process.processIdentifier, SIGKILL)
      group.wait()
    }
    process.waitUntilExit()
    let deathSignal = process.terminationReason == .uncaughtSignal && !timedOut ? process.terminationStatus : nil
    if let deathSignal, let signalLedger { noteSignalDeath(deathSignal, of: [executable.path] + arguments, in: signalLedger) }
    return Outcome(
      status: process.terminationStatus, stdout: collected.stdout, stderr: collected.stderr, timedOut: timedOut,
      signal: deathSignal)
  }

  /// Appends one line to the signal ledger, when the run keeps one.
  private static func noteSignalDeath(_ signal: Int32, of command: [String], in ledger: String) {
    let line = "signal \(signal) (\(signalName(signal))): \(command.joined(separator: " "))\n"
    let descriptor = open(ledger, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { return }
    defer { close(descriptor) }
    _ = line.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, $0.count - 1) }
  }

  /// SIGSEGV, SIGABRT, … for the signals a crash or a kill brings.
  public static func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGSEGV: "SIGSEGV"
    case SIGABRT: "SIGABRT"
    case SIGBUS: "SIGBUS"
    case SIGILL: "SIGILL"
    case SIGFPE: "SIGFPE"
    case SIGTRAP: "SIGTRAP"
    case SIGKILL: "SIGKILL"
    case SIGTERM: "SIGTERM"
    case SIGPIPE: "SIGPIPE"
    default: "signal \(signal)"
    }
  }
}

private final class CollectedOutput: @unchecked Sendable {
  private let lock = NSLock()
  private var out = Data()
  private var err = Data()

  func store(_ data: Data, isStdout: Bool) {
    lock.lock()
    defer { lock.unlock() }
    if isStdout { out = data } else { err = data }
  }

  var stdout: Data { lock.lock(); defer { lock.unlock() }; return out }
  var stderr: Data { lock.lock(); defer { lock.unlock() }; return err }
}
