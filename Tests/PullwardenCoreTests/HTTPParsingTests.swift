import Testing

@testable import PullwardenCore

/// The pure parts of the HTTP layer: URLs, form encoding, HTTP-dates, Retry-After, challenges and
/// the error summaries built from response bodies.
@Suite struct HTTPParsingTests {
  @Test func parsesHTTPSURLs() throws {
    let url = try HTTPSURL(parsing: "https://Auth.Example.com:8443/oauth2/token?x=1")
    #expect(url.host == "auth.example.com")
    #expect(url.port == 8443)
    #expect(url.path == "/oauth2/token")
    #expect(url.query == "x=1")
    #expect(url.redacted == "https://auth.example.com:8443/oauth2/token")
    #expect(try HTTPSURL(parsing: "https://[::1]:5000").authority == "[::1]:5000")
    #expect(try HTTPSURL(parsing: "https://registry.example.com").path == "/")
  }

  @Test(arguments: [
    ("http://sts.example.com/token", "tokens and credentials are never sent over plain HTTP"),
    ("ftp://x", "must be an https:// URL"),
    ("https://user:secret@sts.example.com/", "must not hold a user name or password"),
    ("https://sts.example.com/#frag", "must not have a fragment"),
    ("https://sts.example.com:0/", "port must be a number from 1 to 65535"),
    ("https://sts.example.com:99999/", "port must be a number"),
    ("https:///token", "URL has no host"),
    ("https://sts example.com/", "must not contain spaces"),
  ])
  func refusesUnsafeOrInvalidURLs(text: String, fragment: String) {
    do {
      _ = try HTTPSURL(parsing: text)
      Issue.record("accepted \(text)")
    } catch {
      #expect(error.description.contains(fragment), "\(error)")
    }
  }

  @Test func buildsPathsAndQueries() throws {
    let registry = try HTTPSURL(parsing: "https://registry.example.com:5000/mirror/?ignored=1")
    #expect(registry.appendingPath("/v2/").text == "https://registry.example.com:5000/mirror/v2/")
    let realm = try HTTPSURL(parsing: "https://auth.example.com/token?account=x")
    #expect(
      realm.addingQuery([("service", "registry.example.com"), ("scope", "repository:team/app:pull")]).text
        == "https://auth.example.com/token?account=x&service=registry.example.com&scope=repository%3Ateam%2Fapp%3Apull")
  }

  @Test func formEncodesLikeBrowsers() {
    #expect(FormEncoding.encode([("a b", "c&d=e~f.g_h-i/+")]) == "a+b=c%26d%3De~f.g_h-i%2F%2B")
    #expect(FormEncoding.encode([("q", "a b")], spaceAsPlus: false) == "q=a%20b")
    #expect(FormEncoding.encode([("n", "é")]) == "n=%C3%A9")
  }

  @Test func parsesAllThreeHTTPDateForms() {
    let expected = Timestamp(rfc3339: "1994-11-06T08:49:37Z")
    #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == expected)
    #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: Timestamp(rfc3339: "2025-01-01T00:00:00Z")!) == expected)
    #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == expected)
    #expect(HTTPDate.parse("06 Nov 1994") == nil)
    #expect(HTTPDate.parse("Sun, 31 Feb 1994 08:49:37 GMT") == nil)
    #expect(HTTPDate.format(expected!) == "Sun, 06 Nov 1994 08:49:37 GMT")
  }

  @Test func readsRetryAfter() {
    let now = Timestamp(rfc3339: "2025-03-01T10:00:00Z")!
    func delay(_ fields: [(String, String)]) -> GoDuration? {
      RetryAfter.delay(in: HTTPHeaders(fields.map { (name: $0.0, value: $0.1) }), now: now)
    }
    #expect(delay([("Retry-After", "7")]) == .seconds(7))
    #expect(delay([("retry-after", " 0 ")]) == .zero)
    #expect(delay([("Retry-After", "Sat, 01 Mar 2025 10:00:05 GMT")]) == .seconds(5))
    // Relative to the server's Date, not our clock.
    #expect(delay([("Date", "Sat, 01 Mar 2025 09:00:00 GMT"), ("Retry-After", "Sat, 01 Mar 2025 09:00:02 GMT")]) == .seconds(2))
    #expect(delay([("Retry-After", "Sat, 01 Mar 2025 09:00:00 GMT")]) == .zero)
    #expect(delay([("Retry-After", "99999999999")]) == .hours(24))
    #expect(delay([("Retry-After", "soon")]) == nil)
    #expect(delay([]) == nil)
  }

  @Test func parsesBearerChallenges() {
    let challenges = AuthenticationChallenge.parse([
      #"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull""#
    ])
    #expect(challenges.count == 1)
    #expect(challenges[0].scheme == "bearer")
    #expect(challenges[0].parameters["realm"] == "https://auth.example.com/token")
    #expect(challenges[0].parameters["service"] == "registry.example.com")
    #expect(challenges[0].parameters["scope"] == "repository:a/b:pull")

    let several = AuthenticationChallenge.parse([#"Basic realm="x", Bearer realm="https://a/t\"q\"", service=svc"#, "Negotiate abc=="])
    #expect(several.map(\.scheme) == ["basic", "bearer", "negotiate"])
    #expect(several[1].parameters["realm"] == #"https://a/t"q""#)
    #expect(several[1].parameters["service"] == "svc")
  }

  private func response(_ status: Int, _ body: String) -> HTTPResponse {
    HTTPResponse(status: status, headers: HTTPHeaders(), body: Array(body.utf8), attempts: 1, retryStopped: nil)
  }

  @Test func summarizesServerErrorsWithoutBodiesOrSecrets() {
    #expect(response(400, #"{"error":"invalid_grant","error_description":"token expired"}"#).failureSummary(redacting: []) == "HTTP 400 (invalid_grant: token expired)")
    #expect(response(401, #"{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}"#).failureSummary(redacting: []) == "HTTP 401 (UNAUTHORIZED: no)")
    #expect(response(502, "<html>secret page</html>").failureSummary(redacting: []) == "HTTP 502")
    #expect(response(500, #"{"message":"internal"}"#).failureSummary(redacting: []) == "HTTP 500")
    let token = serviceAccountJWT(expires: 1_700_003_600)
    let payload = String(token.split(separator: ".")[1])
    let echoed = response(400, #"{"error":"invalid_request","error_description":"bad token \#(token) and \#(payload)\u0007"}"#)
    let summary = echoed.failureSummary(redacting: [token])
    #expect(summary == "HTTP 400 (invalid_request: bad token [redacted] and [redacted] )")
    let long = response(400, #"{"error":"e","error_description":"\#(String(repeating: "x", count: 500))"}"#).failureSummary(redacting: [])
    #expect(long.utf8.count < 230 && long.hasSuffix("...)"))
  }
}
