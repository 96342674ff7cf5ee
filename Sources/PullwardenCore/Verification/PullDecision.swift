/// The verifier's answer: must the kubelet pull (re-verify) before this pod may use the image?
public struct PullDecision: Sendable, Equatable {
  /// Why, in one machine-readable word.
  public enum Reason: String, Sendable, CaseIterable {
    // May use the local image.
    case policyNeverVerify, preloadedImage, allowlisted
    case nodePodsAccessible, secretHashMatched, secretCoordinatesMatched, serviceAccountMatched
    // Must pull.
    case imageRefEmpty, invalidImage, recordUnreadable, intentUnreadable
    case noRecord, noCredentialsForImage, noCredentialsRecorded, credentialExpired, noMatchingCredentials
    /// The question could not be answered (bad request, option or records directory).
    case error
  }

  public var mustPull: Bool
  public var reason: Reason
  /// One human sentence; names Secrets and service accounts, never a credential.
  public var detail: String
  /// The kubelet's match-driven record write (a rotated Secret), applied with `--update-records`.
  public var recordUpdate: RecordUpdate?
  /// Whether the pod's credentials were consulted (the kubelet's lazy credential lookup).
  public var consultedPodCredentials = false

  public init(mustPull: Bool, reason: Reason, detail: String) {
    self.mustPull = mustPull
    self.reason = reason
    self.detail = detail
  }

  public static func error(_ error: PullwardenError) -> PullDecision {
    PullDecision(mustPull: true, reason: .error, detail: error.description)
  }

  /// `{"mustPull":…,"reason":…,"detail":…}`
  public var json: JSONValue {
    .object(["mustPull": .bool(mustPull), "reason": .string(reason.rawValue), "detail": .string(detail)])
  }

  /// `must pull (reason): detail` or `may use (reason): detail`, always one line: the detail quotes
  /// input (image names, Secret names) and is escaped (`oneLine`), so a request cannot print a line
  /// that reads as another request's answer.
  public var text: String {
    "\(mustPull ? "must pull" : "may use") (\(reason.rawValue)): \(Self.oneLine(detail))"
  }

  /// `text` with backslashes, control characters (C0, DEL, C1: newlines, ESC of ANSI sequences),
  /// Unicode line and paragraph separators and bidirectional overrides escaped as `\\`, `\n`, `\r`,
  /// `\t`, `\xHH` or `\u{HHHH}`.
  public static func oneLine(_ text: String) -> String {
    var output = ""
    output.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar.value {
      case 0x5C: output += "\\\\"
      case 0x0A: output += "\\n"
      case 0x0D: output += "\\r"
      case 0x09: output += "\\t"
      case 0x00..<0x20, 0x7F: output += "\\x" + hex(scalar.value, digits: 2)
      case 0x80..<0xA0, 0x2028, 0x2029, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
        output += "\\u{" + hex(scalar.value, digits: 4) + "}"
      default: output.unicodeScalars.append(scalar)
      }
    }
    return output
  }

  private static func hex(_ value: UInt32, digits: Int) -> String {
    let text = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
  }

  /// The decision as one output line.
  public func rendered(_ format: VerifyOptions.Format) -> [UInt8] {
    switch format {
    case .json: return JSON.encode(json) + [UInt8(ascii: "\n")]
    case .text: return Array((text + "\n").utf8)
    }
  }

  /// Exit status of a single decision: 0 may use, 1 must pull, 2 error.
  public var exitStatus: Int32 {
    reason == .error ? 2 : mustPull ? 1 : 0
  }
}

/// A Secret the kubelet would add to a record while matching (`writeRecordWhileMatchingLimit`).
public struct RecordUpdate: Sendable, Equatable {
  /// The record's key (`imageRef`) and the image name inside it.
  public var imageRef: String
  public var imageName: String
  public var secret: ImagePullSecret
  /// The expiry of the recorded entry the pod matched, which the new entry inherits.
  public var expiry: ExpiryState
}

/// Where the decision reads records from: a directory, or a cache in front of one.
public protocol PullRecordLookup {
  func pulledRecord(imageRef: String) -> RecordStore.Pulled
  func intent(image: String) -> RecordStore.Intent
  /// Whether records are keyed by the normalized image name (Pullwarden's store) rather than by the
  /// CRI image ID (the kubelet's `image_manager`).
  var keyedByImageName: Bool { get }
}

extension PullRecordLookup {
  /// The kubelet's layout unless the lookup says otherwise.
  public var keyedByImageName: Bool { false }
}

/// The kubelet's `PullManager.MustAttemptImagePull` (1.35/1.36 mainline), plus Pullwarden's rule that
/// a recorded credential past its expiry never allows reuse. Single and batch verification both call
/// this one function.
public struct PullVerifier: Sendable {
  /// The kubelet writes while matching only while an image name holds fewer Secrets than this.
  public static let writeRecordWhileMatchingLimit = 100

  public let policy: CredentialVerificationPolicy

  public init(policy: CredentialVerificationPolicy) {
    self.policy = policy
  }

  public var rules: KubeletRules { policy.allowlist.rules }

  public func decide(_ request: VerifyRequest, records: some PullRecordLookup, now: Timestamp) -> PullDecision {
    // Pullwarden's own records are keyed by the normalized image name, as the provider saw it: there
    // the record is looked up by name even when the request gives an image ID, which would find
    // nothing and make an image pulled with credentials look preloaded.
    let imageRef: String
    let byName: Bool
    if let given = request.imageRef, given.isEmpty {
      return PullDecision(mustPull: true, reason: .imageRefEmpty, detail: "imageRef is empty: the image is not on the node, so it must be pulled")
    } else if let given = request.imageRef, !records.keyedByImageName {
      imageRef = given
      byName = false
    } else {
      byName = true
      do {
        imageRef = try ImageReference(parsing: request.image).name
      } catch {
        return invalidImage(request.image, error)
      }
    }

    var record: ImagePulledRecord?
    var expiry: CredentialExpiry?
    let pulledByKubelet: Bool
    switch records.pulledRecord(imageRef: imageRef) {
    case .unreadable(let reason):
      return PullDecision(
        mustPull: true, reason: .recordUnreadable, detail: "the pull record for \(imageRef) cannot be trusted (\(reason)), so the pod must re-verify")
    case .found(let found, let companion):
      record = found
      expiry = companion
      pulledByKubelet = true
    case .absent, .mismatched:
      // The kubelet's intents are keyed by the pod's image string; Pullwarden's own (written before
      // it hands credentials out) by the record key, the normalized name.
      var keys = [request.image]
      if byName && imageRef != request.image { keys.append(imageRef) }
      var intent = RecordStore.Intent.absent
      for key in keys where intent == .absent {
        intent = records.intent(image: key)
        if case .unreadable(let reason) = intent {
          return PullDecision(
            mustPull: true, reason: .intentUnreadable, detail: "the pull intent for \(key) cannot be read (\(reason)), so the pod must re-verify")
        }
      }
      pulledByKubelet = intent == .present
    }

    if !policy.requiresVerification(image: request.image, pulledByKubelet: pulledByKubelet) {
      return allowedByPolicy(request, imageRef: byName ? request.image : imageRef)
    }
    guard let record else {
      return PullDecision(
        mustPull: true, reason: .noRecord,
        detail: pulledByKubelet
          ? "a pull intent for \(request.image) was recorded but no credentials (the pull or its record did not complete), so the pod must re-verify"
          : "no record shows \(request.image) was pulled with credentials, and policy \(policy.policy.rawValue) verifies it")
    }

    let name: String
    if byName {
      name = imageRef
    } else {
      do {
        name = try rules.imageName(request.image)
      } catch {
        return invalidImage(request.image, error)
      }
    }
    guard let cached = record.credentialMapping[name] else {
      return PullDecision(
        mustPull: true, reason: .noCredentialsForImage, detail: "the record for \(imageRef) holds no credentials for image name \(name)")
    }
    if cached.nodePodsAccessible {
      let state = expiry.state(nodeAccessTo: name)
      if state.hasExpired(at: now) {
        return expired("node-wide access to \(name)", state)
      }
      return PullDecision(
        mustPull: false, reason: .nodePodsAccessible,
        detail: "\(name) was pulled with node-wide credentials or anonymously, so every pod on the node may use it")
    }
    if cached.kubernetesSecrets.isEmpty && cached.kubernetesServiceAccounts.isEmpty {
      return PullDecision(
        mustPull: true, reason: .noCredentialsRecorded, detail: "the record for \(name) lists no credentials (pulled under unknown circumstances)")
    }

    var decision = matchPodCredentials(request, cached: cached, expiry: expiry, imageRef: imageRef, name: name, now: now)
    decision.consultedPodCredentials = true
    return decision
  }

  /// The credential loop of `MustAttemptImagePull`: every pod Secret against every recorded Secret
  /// (hash match first, then coordinates), then the pod's service account. Expired entries are skipped.
  private func matchPodCredentials(
    _ request: VerifyRequest, cached: ImagePullCredentials, expiry: CredentialExpiry?, imageRef: String, name: String,
    now: Timestamp
  ) -> PullDecision {
    let belowLimit = cached.kubernetesSecrets.count < Self.writeRecordWhileMatchingLimit
    var firstExpired: (String, ExpiryState)?
    for podSecret in request.podSecrets {
      for recorded in cached.kubernetesSecrets {
        let hashesMatch = !recorded.credentialHash.isEmpty && podSecret.credentialHash == recorded.credentialHash
        let coordinatesMatch = podSecret.hasCoordinates(of: recorded)
        guard hashesMatch || (coordinatesMatch && belowLimit) else { continue }
        let state = expiry.state(of: recorded, for: name)
        if state.hasExpired(at: now) {
          if firstExpired == nil { firstExpired = ("the credential recorded for \(recorded)", state) }
          continue
        }
        let pod = "the pod's \(podSecret)"
        var decision: PullDecision
        if hashesMatch {
          decision = PullDecision(
            mustPull: false, reason: .secretHashMatched,
            detail: coordinatesMatch
              ? "\(pod) holds the credential recorded for \(name)"
              : "\(pod) holds the credential recorded for \(name) under \(recorded)")
          if coordinatesMatch || !belowLimit { return decision }
        } else {
          decision = PullDecision(
            mustPull: false, reason: .secretCoordinatesMatched,
            detail: "\(pod) is recorded for \(name), with a different credential (a rotated Secret)")
        }
        decision.recordUpdate = RecordUpdate(imageRef: imageRef, imageName: name, secret: podSecret, expiry: state)
        return decision
      }
    }
    if let account = request.podServiceAccount, cached.kubernetesServiceAccounts.contains(account) {
      let state = expiry.state(of: account, for: name)
      if !state.hasExpired(at: now) {
        return PullDecision(mustPull: false, reason: .serviceAccountMatched, detail: "the pod's \(account.labelled) is recorded for \(name)")
      }
      if firstExpired == nil { firstExpired = ("the pod's \(account.labelled)", state) }
    }
    if let (what, state) = firstExpired { return expired(what, state) }
    var offered: [String] = []
    if !request.podSecrets.isEmpty { offered.append("\(request.podSecrets.count) Secret credential\(request.podSecrets.count == 1 ? "" : "s")") }
    if let account = request.podServiceAccount { offered.append(account.labelled) }
    let podSide = offered.isEmpty ? "the pod offers no credentials" : "none of the pod's credentials (\(offered.joined(separator: ", "))) is"
    return PullDecision(
      mustPull: true, reason: .noMatchingCredentials,
      detail: offered.isEmpty ? "\(podSide), and \(name) was pulled with credentials" : "\(podSide) recorded for \(name)")
  }

  /// - Parameter subject: what the lookup was for, as the decision names it.
  private func allowedByPolicy(_ request: VerifyRequest, imageRef subject: String) -> PullDecision {
    switch policy.policy {
    case .neverVerify:
      return PullDecision(mustPull: false, reason: .policyNeverVerify, detail: "policy NeverVerify never verifies credentials")
    case .neverVerifyAllowlistedImages:
      return PullDecision(
        mustPull: false, reason: .allowlisted, detail: "\(request.image) is in the allowlist of policy NeverVerifyAllowlistedImages")
    case .neverVerifyPreloadedImages, .alwaysVerify:
      return PullDecision(
        mustPull: false, reason: .preloadedImage,
        detail: "no record or intent shows \(subject) was pulled with credentials, so policy NeverVerifyPreloadedImages treats it as preloaded")
    }
  }

  private func expired(_ what: String, _ state: ExpiryState) -> PullDecision {
    let when: String
    switch state {
    case .until(let time): when = "expired at \(time.rfc3339)"
    default: when = "has no known expiry"
    }
    return PullDecision(mustPull: true, reason: .credentialExpired, detail: "\(what) \(when), so the pod must re-verify")
  }

  private func invalidImage(_ image: String, _ error: ImageReference.ParseError) -> PullDecision {
    PullDecision(mustPull: true, reason: .invalidImage, detail: "\"\(image)\" is not a valid image reference: \(error)")
  }
}
