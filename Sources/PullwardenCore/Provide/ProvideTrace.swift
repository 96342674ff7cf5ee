import Synchronization

/// What the sources of one run noted about their path: why they gave nothing, and, for `pullwarden
/// explain`, the calls they made or would make. Shared by every copy of a `ProvideContext`.
///
/// `provide` runs with `.provide` and notes only its skip reasons (for its one miss line). `explain`
/// runs the very same sources with `.explain(live:)`: without `live`, sources that would call a server
/// note the call and hand out a placeholder (`SuppliedCredential.unresolved`) instead of making it.
/// Nothing noted here holds a token, password or response body.
public final class ProvideTrace: Sendable {
  public enum Mode: Sendable, Equatable {
    case provide
    case explain(live: Bool)
  }

  public let mode: Mode
  /// Keep provide's HTTP calls too (`.called` notes), for the metrics of an observed call.
  let recordsCalls: Bool
  private let notes = Mutex<[(source: String, note: SourceNote)]>([])

  public init(mode: Mode = .provide) {
    self.mode = mode
    recordsCalls = false
  }

  init(mode: Mode, recordsCalls: Bool) {
    self.mode = mode
    self.recordsCalls = recordsCalls
  }

  /// True for `explain` (notes that cost something on provide's hot path are kept only then).
  public var isExplaining: Bool { mode != .provide }

  /// False only for `explain` without `--live`: sources describe their calls instead of making them.
  public var contactsServers: Bool { mode != .explain(live: false) }

  public func note(_ note: SourceNote, source: String) {
    notes.withLock { $0.append((source, note)) }
  }

  /// Everything noted for `source`, in order.
  public func notes(for source: String) -> [SourceNote] {
    notes.withLock { $0.filter { $0.source == source }.map(\.note) }
  }

  /// An HTTP call observer for `source` when explaining with `--live` or recording calls; nil
  /// otherwise (an unobserved provide's calls are not timed or kept).
  func callObserver(source: String) -> HTTPCallObserver? {
    guard mode == .explain(live: true) || recordsCalls else { return nil }
    return HTTPCallObserver { [self] call in note(.called(call), source: source) }
  }
}

/// One thing a source noted about its path through a run.
public enum SourceNote: Sendable, Equatable {
  /// No service-account token in the request and `withoutToken: skip`: the source gave nothing.
  case skippedWithoutToken
  /// No service-account token and `withoutToken: error`: the run fails.
  case missingToken
  /// The service account lacks an annotation the source requires: the run fails.
  case missingAnnotation(String)
  /// The token's audiences do not include the source's `tokenAudience`: the run fails.
  case audienceMismatch(expected: String, found: [String])
  /// A registry key the source holds that this answer leaves out (explain only).
  case keyLeftOut(key: String, mismatch: PatternMismatch?)
  /// A call the source would make (explain without `--live`): method, URL without query, purpose.
  case wouldCall(method: String, url: String, purpose: String)
  /// A call the source made (explain with `--live`).
  case called(HTTPCallRecord)
  /// What cannot be known without `--live` (explain only).
  case needsLive(String)
}

/// One HTTP request as `explain --live` reports it: never a header or body.
public struct HTTPCallRecord: Sendable, Equatable {
  public var method: String
  /// Without query (`HTTPSURL.redacted`).
  public var url: String
  /// The HTTP status of the last attempt, or nil when no answer came.
  public var status: Int?
  /// Why no answer came (connection, TLS, timeout), never a body.
  public var failure: String?
  public var attempts: Int
  /// Wall time of the batch the request was sent in (requests of one batch run concurrently).
  public var milliseconds: Int64
}

/// Receives each request an `HTTPClient` sent, with its outcome and timing.
public struct HTTPCallObserver: Sendable {
  let record: @Sendable (HTTPCallRecord) -> Void

  public init(_ record: @escaping @Sendable (HTTPCallRecord) -> Void) {
    self.record = record
  }
}
