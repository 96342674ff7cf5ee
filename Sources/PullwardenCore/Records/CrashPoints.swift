#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Test-only fault injection for the record store's writes, compiled into debug builds only.
///
/// `PULLWARDEN_TEST_CRASH_AT=<n>[:<mode>]` acts on the store's n-th file-system step of the process
/// (1-based: a directory creation, a file replacement, a removal or a directory sync), before it runs:
/// - `kill` (the default): the process dies by SIGKILL, leaving what the earlier steps wrote;
/// - `power-loss`: first undoes every earlier change no fsync has made durable yet (a file replaced
///   without fsync, a rename or removal whose directory was not synced since, a directory whose parent
///   was not synced), as a power cut may, then dies by SIGKILL;
/// - `enospc` / `erofs`: the step fails with that error (a full disk, a read-only file system) and
///   the process carries on.
/// The end-to-end tests run `provide` with n = 1, 2, … until a run finishes, so every step is covered.
/// Release builds have none of this: the hooks are empty and the variable is never read.
enum CrashPoints {
  #if DEBUG
  private enum Mode { case kill, powerLoss, fail(Int32) }

  /// One change a power cut could still take back.
  private struct Pending {
    var path: String
    /// The directory whose fsync makes the change durable.
    var directory: String
    /// What to put back: the old bytes, nil for "there was no file", or a created directory.
    var previous: [UInt8]?
    var createdDirectory = false
  }

  private struct State {
    var plan: (step: Int, mode: Mode)?
    var steps = 0
    var pending: [Pending] = []
  }

  private static let state = Mutex<State>(State(plan: parsePlan()))

  private static func parsePlan() -> (step: Int, mode: Mode)? {
    guard let raw = getenv("PULLWARDEN_TEST_CRASH_AT") else { return nil }
    let parts = String(cString: raw).split(separator: ":", maxSplits: 1).map(String.init)
    guard let step = parts.first.flatMap({ Int($0) }), step > 0 else { return nil }
    switch parts.count > 1 ? parts[1] : "kill" {
    case "kill": return (step, .kill)
    case "power-loss": return (step, .powerLoss)
    case "enospc": return (step, .fail(ENOSPC))
    case "erofs": return (step, .fail(EROFS))
    default: return nil
    }
  }

  /// Called before each step; throws the injected error for `fail` modes, never returns for crashes.
  static func step(_ operation: String, _ path: String) throws(SystemError) {
    let failure: Int32? = state.withLock { state in
      guard let plan = state.plan else { return nil }
      state.steps += 1
      guard state.steps == plan.step else { return nil }
      switch plan.mode {
      case .fail(let code): return code
      case .kill: break
      case .powerLoss:
        for change in state.pending.reversed() { undo(change) }
      }
      kill(getpid(), SIGKILL)
      return nil
    }
    if let failure { throw SystemError(operation, path, code: failure) }
  }

  /// Before a change to `path` that becomes durable only when `directory` is synced: remembers the
  /// old content so a simulated power cut can restore it.
  static func willChange(_ path: String, directory: String) {
    state.withLock { state in
      guard state.plan != nil else { return }
      let previous = try? FileIO.readFile(path, limit: 1 << 24, followLinks: false)
      state.pending.append(Pending(path: path, directory: directory, previous: previous))
    }
  }

  /// After creating the directory `path`, durable once its parent is synced.
  static func createdDirectory(_ path: String) {
    state.withLock { state in
      guard state.plan != nil else { return }
      state.pending.append(Pending(path: path, directory: FileIO.directoryName(path), previous: nil, createdDirectory: true))
    }
  }

  /// After a file under `path` was fsync'd: its content is durable, its directory entry is not yet.
  /// After a directory sync: every change in that directory is durable.
  static func synced(directory: String) {
    state.withLock { state in
      state.pending.removeAll { $0.directory == directory }
    }
  }

  private static func undo(_ change: Pending) {
    if change.createdDirectory {
      removeTree(change.path)
    } else if let previous = change.previous {
      try? FileIO.replaceFile(change.path, with: previous, durable: false)
    } else {
      unlink(change.path)
    }
  }

  private static func removeTree(_ path: String) {
    if let names = try? FileIO.directoryEntries(path) {
      for name in names { removeTree(path + "/" + name) }
      rmdir(path)
    } else {
      unlink(path)
    }
  }
  #else
  @inline(__always) static func step(_ operation: String, _ path: String) throws(SystemError) {}
  @inline(__always) static func willChange(_ path: String, directory: String) {}
  @inline(__always) static func createdDirectory(_ path: String) {}
  @inline(__always) static func synced(directory: String) {}
  #endif
}
