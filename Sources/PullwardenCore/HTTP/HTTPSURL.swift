/// An `https://` URL Pullwarden may send a token to.
///
/// Only HTTPS is accepted anywhere a token or credential travels: in the config, and in URLs a server
/// names (a registry's token realm). User information (`user:pass@`) and fragments are refused, so a URL
/// never carries a secret into an error message; `redacted` (no query) is what messages print.
public struct HTTPSURL: Sendable, Hashable, CustomStringConvertible {
  /// The whole URL as requested.
  public let text: String
  /// Host as written, lower-cased; IPv6 literals keep their brackets.
  public let host: String
  public let port: Int?
  /// Always starts with `/`.
  public let path: String
  /// Without the `?`; nil when there is none.
  public let query: String?

  public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
  }

  public init(parsing raw: String) throws(ParseError) {
    guard raw.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
      throw ParseError(description: "URL must not contain spaces, control or non-ASCII characters")
    }
    let schemeEnd = raw.utf8.firstIndex(of: UInt8(ascii: ":"))
    let scheme = schemeEnd.map { String(raw[..<$0]).lowercased() }
    guard let schemeEnd, scheme == "https", raw[schemeEnd...].hasPrefix("://") else {
      if scheme == "http" {
        throw ParseError(description: "must be an https:// URL: tokens and credentials are never sent over plain HTTP")
      }
      throw ParseError(description: "must be an https:// URL")
    }
    var rest = raw[raw.index(schemeEnd, offsetBy: 3)...]
    if rest.contains("#") { throw ParseError(description: "URL must not have a fragment (#...)") }
    let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
    let authority = rest[..<authorityEnd]
    rest = rest[authorityEnd...]
    if authority.contains("@") {
      throw ParseError(description: "URL must not hold a user name or password; configure credentials separately")
    }
    var host = Substring(authority)
    var port: Int?
    if host.hasPrefix("[") {
      guard let close = host.firstIndex(of: "]") else { throw ParseError(description: "unterminated IPv6 address in URL") }
      let after = host[host.index(after: close)...]
      if !after.isEmpty {
        guard after.hasPrefix(":") else { throw ParseError(description: "unexpected text after the IPv6 address") }
        port = try Self.port(after.dropFirst())
      }
      host = host[...close]
    } else if let colon = host.firstIndex(of: ":") {
      port = try Self.port(host[host.index(after: colon)...])
      host = host[..<colon]
    }
    if host.isEmpty || host == "[]" { throw ParseError(description: "URL has no host") }
    let pathEnd = rest.firstIndex(of: "?") ?? rest.endIndex
    let path = String(rest[..<pathEnd])
    self.text = raw
    self.host = host.lowercased()
    self.port = port
    self.path = path.isEmpty ? "/" : path
    self.query = pathEnd < rest.endIndex ? String(rest[rest.index(after: pathEnd)...]) : nil
  }

  /// From parts of an already valid URL.
  private init(host: String, port: Int?, path: String, query: String?) {
    self.host = host
    self.port = port
    self.path = path
    self.query = query
    text = "https://\(port.map { "\(host):\($0)" } ?? host)\(path)\(query.map { "?" + $0 } ?? "")"
  }

  private static func port(_ text: Substring) throws(ParseError) -> Int {
    guard !text.isEmpty, text.utf8.count <= 5, text.allSatisfy(\.isASCIIDigit), let value = Int(text), (1...65535).contains(value)
    else { throw ParseError(description: "URL port must be a number from 1 to 65535") }
    return value
  }

  /// `https://host[:port]/path`, without the query: what errors and logs may show.
  public var redacted: String { "https://\(authority)\(path)" }

  public var authority: String { port.map { "\(host):\($0)" } ?? host }

  public var description: String { redacted }

  /// This URL with `suffix` appended to its path (one `/` between them), query dropped.
  public func appendingPath(_ suffix: String) -> HTTPSURL {
    var base = path
    while base.hasSuffix("/") { base.removeLast() }
    let tail = suffix.hasPrefix("/") ? suffix : "/" + suffix
    // Both parts come from valid URLs, so the result parses.
    return HTTPSURL(host: host, port: port, path: base + tail, query: nil)
  }

  /// This URL with `items` added to its query, percent-encoded.
  public func addingQuery(_ items: [(name: String, value: String)]) -> HTTPSURL {
    guard !items.isEmpty else { return self }
    let added = FormEncoding.encode(items, spaceAsPlus: false)
    let combined = query.map { $0.isEmpty ? added : $0 + "&" + added } ?? added
    return HTTPSURL(host: host, port: port, path: path, query: combined)
  }
}

/// `application/x-www-form-urlencoded` bodies and URL query strings.
public enum FormEncoding {
  /// `name=value&...` with everything but unreserved characters (RFC 3986) percent-encoded.
  ///
  /// - Parameter spaceAsPlus: true for form bodies (spaces as `+`), false for URL queries (`%20`).
  public static func encode(_ items: [(name: String, value: String)], spaceAsPlus: Bool = true) -> String {
    items.map { escape($0.name, spaceAsPlus) + "=" + escape($0.value, spaceAsPlus) }.joined(separator: "&")
  }

  /// `text` with every byte but RFC 3986's unreserved characters percent-encoded (uppercase hex).
  ///
  /// - Parameter keepingSlashes: also keep `/`, for a path written as a URI reference (SARIF's file
  ///   locations).
  static func escape(_ text: String, _ spaceAsPlus: Bool, keepingSlashes: Bool = false) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var output: [UInt8] = []
    output.reserveCapacity(text.utf8.count)
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
        output.append(byte)
      case UInt8(ascii: "/") where keepingSlashes:
        output.append(byte)
      case UInt8(ascii: " ") where spaceAsPlus:
        output.append(UInt8(ascii: "+"))
      default:
        output += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
      }
    }
    return String(decoding: output, as: UTF8.self)
  }
}
