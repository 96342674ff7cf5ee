/// Whether one source served an image in a run, and why: the reason builder behind both `provide`'s
/// miss line and `pullwarden explain`, so the two always say the same thing.
///
/// Built from facts the run itself produced: the `matchImages` test (`ImagePattern.mismatch`, the same
/// test `matches` makes), what the source supplied, the notes it left in the `ProvideTrace` (skipped
/// without a token, missing token or annotation, wrong audience), and the error it threw, if any.
public struct SourceVerdict: Sendable, Equatable {
  public var source: String
  public var type: String
  /// The first `matchImages` pattern that matches the image; nil when none does.
  public var matchedPattern: String?
  /// When no pattern matches: each pattern with the part of the image it failed on.
  public var mismatches: [PatternFailure]
  public var outcome: Outcome

  public struct PatternFailure: Sendable, Equatable {
    public var pattern: String
    public var mismatch: PatternMismatch
  }

  public enum Outcome: Sendable, Equatable {
    /// No `matchImages` pattern matches the image.
    case notServed
    /// `count` credentials under keys matching the image.
    case served(count: Int)
    /// Serves the image, but supplied nothing under a key matching it.
    case noMatchingKey
    /// No service-account token in the request, and `withoutToken: skip`.
    case skippedWithoutToken
    /// No service-account token, and `withoutToken: error`: the run fails.
    case missingToken
    /// The service account lacks this annotation, which the source requires: the run fails.
    case missingAnnotation(String)
    /// The token's audiences lack the source's `tokenAudience`: the run fails.
    case audienceMismatch(expected: String, found: [String])
    /// Any other failure: the run fails with this error.
    case failed(PullwardenError)
    /// An earlier source failed, and the run stops there.
    case notReached
    /// explain without `--live`: what it supplies comes only from a server's answer.
    case needsLive(String)
    /// Not serving the image, but asked anyway because the answer is Global.
    case consultedForGlobal(count: Int)
  }

  /// Whether this outcome makes the whole run fail.
  public var failsTheRun: Bool {
    switch outcome {
    case .missingToken, .missingAnnotation, .audienceMismatch, .failed: return true
    default: return false
    }
  }

  /// Judges `source` for `image`.
  ///
  /// - Parameters:
  ///   - supplied: what the source supplied in this run (any key).
  ///   - handedOut: how many of those match the image.
  ///   - notes: what the source noted in the run's trace.
  ///   - failure: the error the source threw, if it did.
  ///   - reached: false when an earlier source failed, so this one never ran.
  static func judge(
    _ source: any CredentialSource, image: URLLocation, supplied: [SuppliedCredential], handedOut: Int,
    notes: [SourceNote], failure: PullwardenError?, reached: Bool
  ) -> SourceVerdict {
    let common = source.common
    var verdict = SourceVerdict(source: common.name, type: source.typeName, matchedPattern: nil, mismatches: [], outcome: .notServed)
    for pattern in common.matchImages {
      guard let mismatch = pattern.mismatch(image) else {
        verdict.matchedPattern = pattern.text
        break
      }
      verdict.mismatches.append(PatternFailure(pattern: pattern.text, mismatch: mismatch))
    }
    if verdict.matchedPattern != nil { verdict.mismatches = [] }
    let served = verdict.matchedPattern != nil
    if !reached {
      verdict.outcome = served ? .notReached : .notServed
      return verdict
    }
    for note in notes {
      switch note {
      case .missingToken: verdict.outcome = .missingToken
      case .missingAnnotation(let key): verdict.outcome = .missingAnnotation(key)
      case .audienceMismatch(let expected, let found): verdict.outcome = .audienceMismatch(expected: expected, found: found)
      case .skippedWithoutToken: verdict.outcome = .skippedWithoutToken
      case .needsLive(let what): verdict.outcome = .needsLive(what)
      default: continue
      }
      if verdict.outcome != .notServed { return verdict }
    }
    if let failure {
      verdict.outcome = .failed(failure)
    } else if handedOut > 0 {
      verdict.outcome = .served(count: handedOut)
    } else if !served {
      verdict.outcome = supplied.isEmpty ? .notServed : .consultedForGlobal(count: supplied.count)
    } else {
      verdict.outcome = .noMatchingKey
    }
    return verdict
  }

  /// The closest miss among the patterns: the one whose match got furthest (first of equals).
  public var closestMismatch: PatternFailure? {
    mismatches.max { $0.mismatch.rank < $1.mismatch.rank }
      .flatMap { best in mismatches.first { $0.mismatch.rank == best.mismatch.rank } }
  }

  /// The reason on one line, as `provide`'s miss warning writes it after `source "NAME": `.
  public var summary: String {
    let serves = matchedPattern.map { "matches (\(quoted: $0))" } ?? "matches"
    switch outcome {
    case .notServed:
      let patterns = mismatches.prefix(3).map { Escaping.quoted($0.pattern) }.joined(separator: ", ")
      let more = mismatches.count > 3 ? ", …" : ""
      let closest = closestMismatch.map { " (closest \(quoted: $0.pattern): \($0.mismatch))" } ?? ""
      return "matchImages [\(patterns)\(more)] do not match\(closest)"
    case .served(let count):
      return "\(serves), \(count) credential\(count == 1 ? "" : "s") for the image"
    case .noMatchingKey:
      return "\(serves), but has no credential under a registry key matching the image"
    case .skippedWithoutToken:
      return "\(serves), but skipped: the request has no service-account token (withoutToken: skip)"
    case .missingToken:
      return "\(serves), but the request has no service-account token (withoutToken: error): the run fails"
    case .missingAnnotation(let key):
      return "\(serves), but the service account has no annotation \(quoted: key), which the source requires: the run fails"
    case .audienceMismatch(let expected, let found):
      let audiences = found.isEmpty ? "none" : found.map { Escaping.quoted($0) }.joined(separator: ", ")
      return "\(serves), but the token's audience is \(audiences), not \(quoted: expected) (tokenAudience): the run fails"
    case .failed(let error):
      return "\(serves), but fails: \(error)"
    case .notReached:
      return "\(serves), but not reached: the run stops at the source that failed before it"
    case .needsLive(let what):
      return "\(serves); \(what) (run with --live)"
    case .consultedForGlobal(let count):
      return "does not serve the image, but is asked for the Global answer: \(count) credential\(count == 1 ? "" : "s") for other images"
    }
  }

  /// Served or not, one word for JSON and the text table.
  public var status: String {
    switch outcome {
    case .notServed: return "not-served"
    case .served: return "served"
    case .noMatchingKey: return "no-matching-key"
    case .skippedWithoutToken: return "skipped"
    case .missingToken, .missingAnnotation, .audienceMismatch, .failed: return "fails"
    case .notReached: return "not-reached"
    case .needsLive: return "needs-live"
    case .consultedForGlobal: return "global-only"
    }
  }

  /// A stable code for the reason, for JSON.
  public var reasonCode: String {
    switch outcome {
    case .notServed: return closestMismatch.map { "matchImages-\($0.mismatch.part)" } ?? "matchImages"
    case .served: return "served"
    case .noMatchingKey: return "no-matching-key"
    case .skippedWithoutToken: return "withoutToken-skip"
    case .missingToken: return "missing-token"
    case .missingAnnotation: return "missing-annotation"
    case .audienceMismatch: return "audience-mismatch"
    case .failed: return "error"
    case .notReached: return "not-reached"
    case .needsLive: return "needs-live"
    case .consultedForGlobal: return "global-only"
    }
  }
}
