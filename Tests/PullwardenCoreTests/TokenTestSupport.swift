import FixtureKit
import Testing

@testable import PullwardenCore

/// A service-account JWT as the kubelet would send it (unsigned: Pullwarden never checks signatures).
func serviceAccountJWT(
  expires: Int64, namespace: String? = "team-a", name: String? = "builder", uid: String? = "uid-1",
  audience: JSONValue = .array([.string("registry.example.com")]), subject: String? = nil, extra: [(String, JSONValue)] = []
) -> String {
  var account = JSONObject()
  if let name { account["name"] = .string(name) }
  if let uid { account["uid"] = .string(uid) }
  var kubernetes = JSONObject()
  if let namespace { kubernetes["namespace"] = .string(namespace) }
  kubernetes["serviceaccount"] = .object(account)
  kubernetes["pod"] = .object(["name": .string("app-0"), "uid": .string("pod-uid")])
  var claims = JSONObject()
  claims["aud"] = audience
  claims["exp"] = .integer(expires)
  claims["iss"] = .string("https://kubernetes.default.svc")
  claims["sub"] = .string(subject ?? "system:serviceaccount:\(namespace ?? ""):\(name ?? "")")
  claims["kubernetes.io"] = .object(kubernetes)
  for (key, value) in extra { claims[key] = value }
  return jwt(header: ["alg": .string("RS256")], claims: claims)
}

func jwt(header: JSONObject, claims: JSONObject, signature: String = "c2lnbmF0dXJlLW5vdC1jaGVja2Vk") -> String {
  Base64.encode(JSON.encode(.object(header)), alphabet: .urlSafe) + "."
    + Base64.encode(JSON.encode(.object(claims)), alphabet: .urlSafe) + "." + signature
}


/// Nanoseconds of a monotonic clock, for "took at least / well under" checks.
func elapsed(_ body: () throws -> Void) rethrows -> Duration {
  let clock = ContinuousClock()
  let start = clock.now
  try body()
  return clock.now - start
}
