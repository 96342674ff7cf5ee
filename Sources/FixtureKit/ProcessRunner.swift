import Foundation

/// Runs a program to completion with given stdin, environment and working directory.
public enum ProcessRunner {
  public struct Outcome: Sendable {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data
    public var timedOut: Bool
  }

  public static func run(
    _ executable: URL, arguments: [String], stdin: Data, environment: [String: String],
    directory: URL? = nil, timeout: TimeInterval
  ) throws -> Outcome {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
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
    return Outcome(status: process.terminationStatus, stdout: collected.stdout, stderr: collected.stderr, timedOut: timedOut)
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
