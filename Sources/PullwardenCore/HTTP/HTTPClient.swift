import CCurl

/// One HTTPS request.
public struct HTTPRequest: Sendable {
  public enum Method: String, Sendable {
    case get = "GET"
    case post = "POST"
  }

  public var method: Method
  public var url: HTTPSURL
  /// Header fields to send. Values may be secrets (`Authorization`) and are never printed.
  public var headers: [(name: String, value: String)]
  public var body: [UInt8]?

  public init(method: Method, url: HTTPSURL, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
    self.method = method
    self.url = url
    self.headers = headers
    self.body = body
  }

  /// A POST of `application/x-www-form-urlencoded` fields.
  public static func form(_ url: HTTPSURL, _ fields: [(name: String, value: String)], headers: [(name: String, value: String)] = [])
    -> HTTPRequest
  {
    HTTPRequest(
      method: .post, url: url, headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers,
      body: Array(FormEncoding.encode(fields).utf8))
  }

  /// `POST https://host/path` (no query): how messages name the request.
  public var label: String { "\(method.rawValue) \(url.redacted)" }
}

/// The final answer to a request (after any retries), whatever its status.
public struct HTTPResponse: Sendable {
  public var status: Int
  public var headers: HTTPHeaders
  /// At most `HTTPSettings.maxResponseSize` bytes.
  public var body: [UInt8]
  /// How many times the request was sent.
  public var attempts: Int
  /// Why a retryable answer (429, 5xx) was not tried again, e.g. a Retry-After beyond the time budget.
  public var retryStopped: String?

  public var isSuccess: Bool { (200..<300).contains(status) }
}

/// A request that got no HTTP answer: libcurl missing, TLS refused, no connection, timed out, or a
/// response too large to accept. The text never holds a token or a body.
public struct HTTPFailure: Error, Sendable, Equatable, CustomStringConvertible {
  /// What went wrong, e.g. `TLS: SSL certificate problem: unable to get local issuer certificate`.
  public var what: String
  /// `POST https://host/path`.
  public var request: String
  public var attempts: Int
  /// No answer because the service could not be reached or did not answer in time (a transport
  /// failure worth retrying), as opposed to TLS refusals, oversized answers and local problems.
  var isOutage = false

  public var description: String { "\(what) (\(request)\(attempts > 1 ? ", \(attempts) attempts" : ""))" }
}

/// How requests are made: trust, client identity, timeouts and retries.
///
/// TLS peer and host verification are always on; there is deliberately no setting to turn them off.
/// Proxies come from the environment as libcurl reads it (`https_proxy`/`HTTPS_PROXY`, `all_proxy`,
/// `no_proxy`/`NO_PROXY`), which the kubelet passes on to its plugins.
public struct HTTPSettings: Sendable, Equatable {
  /// PEM bundle of CAs to trust instead of the system's; nil for the system store.
  public var caFile: String?
  /// PEM CA certificates to trust, given inline (a kubeconfig's certificate-authority-data); used
  /// instead of the system store, like `caFile`.
  public var caData: [UInt8]?
  /// PEM client certificate and key for mutual TLS; both or neither.
  public var clientCertificateFile: String?
  public var clientKeyFile: String?
  public var connectTimeout: GoDuration
  /// Longest one attempt may take.
  public var attemptTimeout: GoDuration
  /// Longest a whole `send` may take, retries and waits included. Well inside the kubelet's
  /// one-minute deadline for the whole plugin run.
  public var totalTimeout: GoDuration
  /// 1 to 3.
  public var maxAttempts: Int
  public var maxResponseSize: Int

  public static let defaultConnectTimeout = GoDuration.seconds(5)
  public static let defaultAttemptTimeout = GoDuration.seconds(10)
  public static let defaultTotalTimeout = GoDuration.seconds(30)
  /// The kubelet kills a plugin after one minute; leave room for everything else.
  public static let longestTotalTimeout = GoDuration.seconds(50)
  public static let defaultMaxAttempts = 3
  public static let defaultMaxResponseSize = 1 << 20

  public init(
    caFile: String? = nil, clientCertificateFile: String? = nil, clientKeyFile: String? = nil,
    connectTimeout: GoDuration = defaultConnectTimeout, attemptTimeout: GoDuration = defaultAttemptTimeout,
    totalTimeout: GoDuration = defaultTotalTimeout, maxAttempts: Int = defaultMaxAttempts,
    maxResponseSize: Int = defaultMaxResponseSize
  ) {
    self.caFile = caFile
    self.clientCertificateFile = clientCertificateFile
    self.clientKeyFile = clientKeyFile
    self.connectTimeout = connectTimeout
    self.attemptTimeout = attemptTimeout
    self.totalTimeout = totalTimeout
    self.maxAttempts = maxAttempts
    self.maxResponseSize = maxResponseSize
  }
}

/// HTTPS through libcurl: several requests run at once on the calling thread (curl multi), each retried
/// on 429, 5xx and connection errors, all within one time budget.
///
/// Retry policy: at most `maxAttempts` sends. The wait before a retry is the server's `Retry-After`
/// (seconds or HTTP-date) when it gives one, else an exponential backoff with jitter (about 0.25 s,
/// then 0.5 s). A retry is only started if it can still get a useful slice of the budget; a
/// `Retry-After` beyond the budget ends the retries at once (the kubelet would kill us otherwise).
/// Redirects are not followed, so a token in a request never travels to a host that was not configured.
public struct HTTPClient: Sendable {
  public let settings: HTTPSettings
  /// When the whole run must be done (several sources share the kubelet's minute); each `send` ends by
  /// this or by `settings.totalTimeout`, whichever comes first.
  public let runDeadline: MonotonicInstant?
  public static let userAgent = "pullwarden"

  /// Told about every request sent (`explain --live` reports status and timing); nil in `provide`.
  public let observer: HTTPCallObserver?

  public init(settings: HTTPSettings = HTTPSettings(), runDeadline: MonotonicInstant? = nil, observer: HTTPCallObserver? = nil) {
    self.settings = settings
    self.runDeadline = runDeadline
    self.observer = observer
  }

  /// Sends one request; see `send(_:)` for many.
  public func send(_ request: HTTPRequest) throws(HTTPFailure) -> HTTPResponse {
    try send([request])[0].get()
  }

  /// Sends every request concurrently and returns their outcomes in the same order.
  public func send(_ requests: [HTTPRequest]) -> [Result<HTTPResponse, HTTPFailure>] {
    guard let observer else { return perform(requests) }
    let started = MonotonicInstant.now
    let results = perform(requests)
    let elapsed = started.duration(to: MonotonicInstant.now)
    let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    for (request, result) in zip(requests, results) {
      var call = HTTPCallRecord(
        method: request.method.rawValue, url: request.url.redacted, status: nil, failure: nil, attempts: 1, milliseconds: milliseconds)
      switch result {
      case .success(let response):
        call.status = response.status
        call.attempts = response.attempts
      case .failure(let failure):
        call.failure = failure.what
        call.attempts = failure.attempts
      }
      observer.record(call)
    }
    return results
  }

  /// The CA file decides whom Pullwarden trusts and the client files whom it claims to be, so they
  /// are held to the config's standard (`FileTrust`: root's or the running user's, not writable by
  /// group or others), as `config check` says, before libcurl opens them. A missing file is left to
  /// libcurl's own error.
  private func untrustedTLSFile() -> String? {
    let files = [("caFile", settings.caFile), ("clientCertFile", settings.clientCertificateFile), ("clientKeyFile", settings.clientKeyFile)]
    for case let (setting, path?) in files {
      do {
        try FileTrust.checkPath(path)
      } catch {
        return "\(setting): \(error)"
      }
    }
    return nil
  }

  private func perform(_ requests: [HTTPRequest]) -> [Result<HTTPResponse, HTTPFailure>] {
    if let problem = Curl.load() ?? untrustedTLSFile() {
      return requests.map { .failure(HTTPFailure(what: problem, request: $0.label, attempts: 0)) }
    }
    guard let multi = CurlMulti() else {
      return requests.map { .failure(HTTPFailure(what: "libcurl could not create a transfer", request: $0.label, attempts: 0)) }
    }
    var deadline = MonotonicInstant.now + settings.totalTimeout.swiftDuration
    var budget = "the \(settings.totalTimeout) time budget"
    if let runDeadline, runDeadline < deadline {
      deadline = runDeadline
      budget = "the time left for this run (the kubelet stops waiting after 1 minute)"
    }
    let transfers = requests.map { Transfer($0, startAt: MonotonicInstant.now, limit: settings.maxResponseSize) }
    var running: [UnsafeMutableRawPointer: Transfer] = [:]

    while transfers.contains(where: { $0.result == nil }) {
      let now = MonotonicInstant.now
      for transfer in transfers where transfer.result == nil && transfer.easy == nil && transfer.startAt <= now {
        if let failure = begin(transfer, in: multi, now: now, deadline: deadline) {
          transfer.result = .failure(failure)
        } else if let easy = transfer.easy {
          running[easy.handle] = transfer
        }
      }
      let status = multi.perform()
      if status != CURLM_OK {
        for transfer in transfers where transfer.result == nil {
          if let easy = transfer.easy { multi.remove(easy) }
          transfer.fail("libcurl: \(CurlMulti.describe(status))")
        }
        break
      }
      while let done = multi.nextDone() {
        guard let transfer = running.removeValue(forKey: done.handle), let easy = transfer.easy else { continue }
        multi.remove(easy)
        finish(transfer, result: done.result, now: MonotonicInstant.now, deadline: deadline, budget: budget)
      }
      guard transfers.contains(where: { $0.result == nil }) else { break }
      // Sleep until a socket is ready, a retry is due, or (at most) a second passes.
      var wait = Duration.seconds(1)
      for transfer in transfers where transfer.result == nil && transfer.easy == nil {
        wait = min(wait, max(.zero, transfer.startAt - MonotonicInstant.now))
      }
      _ = multi.poll(milliseconds: wait.milliseconds)
    }
    return transfers.map { $0.result! }
  }

  // MARK: Attempts

  /// Configures a fresh handle for the transfer's next attempt and adds it to `multi`.
  private func begin(
    _ transfer: Transfer, in multi: CurlMulti, now: MonotonicInstant, deadline: MonotonicInstant
  ) -> HTTPFailure? {
    transfer.attempts += 1
    transfer.reset()
    guard let easy = CurlEasy() else { return transfer.failure("libcurl could not create a transfer") }
    let remaining = deadline - now
    let attemptLimit = settings.attemptTimeout.swiftDuration
    transfer.cutByBudget = remaining < attemptLimit
    let request = transfer.request
    var lines = request.headers.map { "\($0.name): \($0.value)" }
    lines.append("Accept: application/json")
    // No "Expect: 100-continue" round trip before small form bodies.
    lines.append("Expect:")
    let headerList = CurlStringList(lines)
    let context = Unmanaged.passUnretained(transfer).toOpaque()

    var codes = [
      easy.set(CURLOPT_URL, request.url.text),
      easy.set(CURLOPT_NOSIGNAL, 1),
      easy.set(CURLOPT_FOLLOWLOCATION, 0),
      easy.set(CURLOPT_SSL_VERIFYPEER, 1),
      easy.set(CURLOPT_SSL_VERIFYHOST, 2),
      easy.set(CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2),
      easy.set(CURLOPT_CONNECTTIMEOUT_MS, max(1, min(settings.connectTimeout.swiftDuration, remaining).milliseconds)),
      easy.set(CURLOPT_TIMEOUT_MS, max(1, min(attemptLimit, remaining).milliseconds)),
      easy.set(CURLOPT_MAXFILESIZE_LARGE, offset: Int64(settings.maxResponseSize)),
      easy.set(CURLOPT_USERAGENT, Self.userAgent),
      easy.set(CURLOPT_HTTPHEADER, list: headerList),
      easy.set(CURLOPT_WRITEFUNCTION, callback: receiveBody),
      easy.set(CURLOPT_WRITEDATA, pointer: context),
      easy.set(CURLOPT_HEADERFUNCTION, callback: receiveHeader),
      easy.set(CURLOPT_HEADERDATA, pointer: context),
    ]
    // Only HTTPS, also for anything libcurl might be asked to follow.
    if easy.set(CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK {
      codes.append(easy.set(CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTPS)))
    }
    if let caFile = settings.caFile { codes.append(easy.set(CURLOPT_CAINFO, caFile)) }
    if let caData = settings.caData { codes.append(easy.set(CURLOPT_CAINFO_BLOB, blob: caData)) }
    if let certificate = settings.clientCertificateFile { codes.append(easy.set(CURLOPT_SSLCERT, certificate)) }
    if let key = settings.clientKeyFile { codes.append(easy.set(CURLOPT_SSLKEY, key)) }
    switch request.method {
    case .get:
      codes.append(easy.set(CURLOPT_HTTPGET, 1))
    case .post:
      let body = request.body ?? []
      codes.append(easy.set(CURLOPT_POST, 1))
      codes.append(easy.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: Int64(body.count)))
      codes.append(easy.set(CURLOPT_COPYPOSTFIELDS, copying: body))
    }
    if let bad = codes.first(where: { $0 != CURLE_OK }) {
      return transfer.failure("libcurl refused an option: \(Curl.describe(bad))")
    }
    transfer.easy = easy
    transfer.headerList = headerList
    let added = multi.add(easy)
    if added != CURLM_OK {
      transfer.easy = nil
      return transfer.failure("libcurl: \(CurlMulti.describe(added))")
    }
    return nil
  }

  /// Turns a finished attempt into the transfer's result, or schedules the next attempt.
  private func finish(
    _ transfer: Transfer, result: CURLcode, now: MonotonicInstant, deadline: MonotonicInstant, budget: String
  ) {
    let easy = transfer.easy!
    let status = easy.info(CURLINFO_RESPONSE_CODE) ?? 0
    transfer.easy = nil
    transfer.headerList = nil
    let mayRetry = transfer.attempts < settings.maxAttempts
    // A retry must still have a useful slice of the budget left after its wait.
    let useful = min(settings.attemptTimeout.swiftDuration, .seconds(1))

    if result == CURLE_OK {
      var response = HTTPResponse(
        status: status, headers: transfer.headers, body: transfer.body, attempts: transfer.attempts, retryStopped: nil)
      if Self.isRetryable(status: status) && mayRetry {
        let asked = RetryAfter.delay(in: transfer.headers, now: .now())
        let wait = asked?.swiftDuration ?? backoff(after: transfer.attempts)
        if now + wait + useful <= deadline {
          transfer.startAt = now + wait
          return
        }
        response.retryStopped =
          asked.map { "the server asked to retry after \($0), beyond \(budget)" } ?? "no time left in \(budget)"
      }
      transfer.result = .success(response)
      return
    }

    if let overflow = transfer.overflow {
      transfer.fail(overflow)
      return
    }
    let detail = easy.errorText ?? Curl.describe(result)
    let what: String
    switch result {
    case _ where detail.containsText("alert certificate required"):
      what = "TLS: the server requires a client certificate (set clientCertFile and clientKeyFile): \(detail)"
    case _ where detail.containsText(" alert "):
      what = "TLS: the server refused the connection: \(detail)"
    case CURLE_FILESIZE_EXCEEDED:
      what = "response body larger than \(ByteCount(settings.maxResponseSize))"
    case CURLE_OPERATION_TIMEDOUT where transfer.cutByBudget:
      what = "no answer within \(budget): \(detail)"
    case CURLE_OPERATION_TIMEDOUT:
      what = "timed out: \(detail)"
    case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT:
      what = "cannot connect: \(detail)"
    case CURLE_PEER_FAILED_VERIFICATION:
      what = "TLS: server certificate not trusted: \(detail)"
    case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR,
      CURLE_SSL_CRL_BADFILE, CURLE_USE_SSL_FAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CLIENTCERT:
      what = "TLS: \(detail)"
    case CURLE_SEND_ERROR where settings.clientCertificateFile == nil, CURLE_RECV_ERROR where settings.clientCertificateFile == nil:
      // With TLS 1.3 a server that wants a client certificate says so only after the handshake, and
      // often the dropped connection is all the client sees.
      what = "\(detail) (the server dropped the connection; if it requires a client certificate, set clientCertFile and clientKeyFile)"
    default:
      what = detail
    }
    if Self.isRetryable(result, detail: detail) && mayRetry {
      let wait = backoff(after: transfer.attempts)
      if now + wait + useful <= deadline {
        transfer.startAt = now + wait
        return
      }
    }
    transfer.fail(what, outage: Self.isRetryable(result, detail: detail))
  }

  /// 429 (too many requests) and server errors except those that say "this will never work".
  static func isRetryable(status: Int) -> Bool {
    status == 429 || status == 408 || (status >= 500 && status <= 599 && status != 501 && status != 505)
  }

  /// Transport errors worth another try: no connection, a dropped or timed-out exchange. TLS alerts
  /// (the server refusing our certificate) and verification failures are final.
  static func isRetryable(_ code: CURLcode, detail: String) -> Bool {
    if detail.containsText(" alert ") || detail.containsText("alert certificate") { return false }
    switch code {
    case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT,
      CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
      return true
    default:
      return false
    }
  }

  /// About 0.25 s after the first attempt, 0.5 s after the second, each scaled by a random 50-100 %
  /// so many nodes retrying together spread out.
  private func backoff(after attempts: Int) -> Duration {
    let base = 250.0 * Double(1 << min(attempts - 1, 4))
    return .milliseconds(Int64(base * Double.random(in: 0.5..<1.0)))
  }
}

// MARK: Transfer state and callbacks

/// One request's state across attempts; owns the handle (with its error buffer) and header list of the
/// current attempt. libcurl's callbacks reach it through an unretained pointer, valid while the transfer runs.
private final class Transfer {
  let request: HTTPRequest
  let limit: Int
  var attempts = 0
  var startAt: MonotonicInstant
  var easy: CurlEasy?
  var headerList: CurlStringList?
  var cutByBudget = false
  var body: [UInt8] = []
  var headers = HTTPHeaders()
  var headerBytes = 0
  /// Set by a callback that refused data (body or headers too large).
  var overflow: String?
  var result: Result<HTTPResponse, HTTPFailure>?

  static let headerLimit = 64 << 10

  init(_ request: HTTPRequest, startAt: MonotonicInstant, limit: Int) {
    self.request = request
    self.startAt = startAt
    self.limit = limit
  }

  func reset() {
    body = []
    headers = HTTPHeaders()
    headerBytes = 0
    overflow = nil
  }

  func failure(_ what: String) -> HTTPFailure { HTTPFailure(what: what, request: request.label, attempts: attempts) }

  func fail(_ what: String, outage: Bool = false) {
    var failure = failure(what)
    failure.isOutage = outage
    result = .failure(failure)
  }
}

private let receiveBody: curl_write_callback = { data, size, count, context in
  let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
  let length = size * count
  if transfer.body.count + length > transfer.limit {
    transfer.overflow = "response body larger than \(ByteCount(transfer.limit))"
    return 0  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  if let data, length > 0 {
    transfer.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
  }
  return length
}

/// Called once per header line of every response (including 1xx ones, hence the reset at status lines).
private let receiveHeader: curl_write_callback = { data, size, count, context in
  let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
  let length = size * count
  transfer.headerBytes += length
  if transfer.headerBytes > Transfer.headerLimit {
    transfer.overflow = "response headers larger than \(ByteCount(Transfer.headerLimit))"
    return 0
  }
  guard let data, length > 0 else { return length }
  // Trim bytes, not Characters: "\r\n" is a single Character in Swift.
  var bytes = UnsafeRawBufferPointer(start: data, count: length)[...]
  func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
  let folded = bytes.first.map { $0 == 0x20 || $0 == 0x09 } ?? false
  while let last = bytes.last, isSpace(last) { bytes = bytes.dropLast() }
  while let first = bytes.first, isSpace(first) { bytes = bytes.dropFirst() }
  if bytes.starts(with: "HTTP/".utf8) {
    transfer.headers = HTTPHeaders()
  } else if folded {
    transfer.headers.appendToLast(String(decoding: bytes, as: UTF8.self))
  } else if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
    var value = bytes[(colon + 1)...]
    while let first = value.first, isSpace(first) { value = value.dropFirst() }
    transfer.headers.append(String(decoding: bytes[..<colon], as: UTF8.self), String(decoding: value, as: UTF8.self))
  }
  return length
}

extension GoDuration {
  var swiftDuration: Duration { .nanoseconds(nanoseconds) }
}

extension Duration {
  /// Whole milliseconds, rounded down; negative durations give 0.
  var milliseconds: Int {
    let (seconds, attoseconds) = components
    return max(0, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
  }
}
