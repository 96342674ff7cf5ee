/// A container image reference parsed and normalized the way the kubelet does before it calls a
/// credential provider: docker's `ParseNormalizedNamed`, then `Name()`.
///
/// `nginx:1.25` → domain `docker.io`, path `library/nginx`, tag `1.25`; `name` is
/// `docker.io/library/nginx`, which is exactly the `image` the kubelet sends in a request.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
  /// Registry host with optional port, e.g. `registry.example.com:5000`.
  public var domain: String
  /// Repository path inside the registry, e.g. `team/app`.
  public var path: String
  public var tag: String?
  public var digest: String?

  /// `domain/path`: the repository, without tag or digest.
  public var name: String { domain + "/" + path }

  public var description: String {
    var text = name
    if let tag { text += ":" + tag }
    if let digest { text += "@" + digest }
    return text
  }

  /// Why a string is not an image reference.
  public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
  }

  /// Parses and normalizes `text` (Docker Hub short names are expanded, `index.docker.io` becomes
  /// `docker.io`). Mirrors distribution/reference `ParseNormalizedNamed`.
  public init(parsing text: String) throws(ParseError) {
    if text.isEmpty { throw ParseError(reason: "image is empty") }
    if text.utf8.count == 64 && text.utf8.allSatisfy(isLowerHex) {
      throw ParseError(reason: "a 64-character hexadecimal string is an image ID, not a repository name")
    }
    // Split off the domain the way splitDockerDomain does: the first component is a domain only if
    // it looks like one (has '.' or ':', is "localhost", or has upper case letters).
    var domain = "docker.io"
    var remainder = Substring(text)
    if let slash = text.firstIndex(of: "/") {
      let first = text[..<slash]
      if first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
        domain = String(first)
        remainder = text[text.index(after: slash)...]
      }
    }
    if domain == "index.docker.io" { domain = "docker.io" }

    // Tag and digest come after the last path component.
    var digest: String?
    if let at = remainder.firstIndex(of: "@") {
      digest = String(remainder[remainder.index(after: at)...])
      remainder = remainder[..<at]
    }
    var tag: String?
    if let colon = remainder.lastIndex(of: ":"), !remainder[colon...].contains("/") {
      tag = String(remainder[remainder.index(after: colon)...])
      remainder = remainder[..<colon]
    }
    if domain == "docker.io" && !remainder.contains("/") && !remainder.isEmpty {
      remainder = "library/" + remainder
    }
    let path = String(remainder)

    if path.lowercased() != path {
      throw ParseError(reason: "repository name \"\(path)\" must be lowercase")
    }
    guard Self.isValidDomain(domain) else {
      throw ParseError(reason: "\"\(domain)\" is not a valid registry host")
    }
    guard Self.isValidPath(path) else {
      throw ParseError(reason: "\"\(text)\" is not a valid repository name")
    }
    if domain.utf8.count + 1 + path.utf8.count > 255 {
      throw ParseError(reason: "repository name is longer than 255 characters")
    }
    if let tag, !Self.isValidTag(tag) {
      throw ParseError(reason: "\"\(tag)\" is not a valid tag")
    }
    if let digest, !Self.isValidDigest(digest) {
      throw ParseError(reason: "\"\(digest)\" is not a valid digest")
    }
    self.domain = domain
    self.path = path
    self.tag = tag
    self.digest = digest
  }

  // MARK: Grammar (distribution/reference regexp.go)

  /// host [":" port], host being DNS components, an IPv4 address or a bracketed IPv6 address.
  static func isValidDomain(_ domain: String) -> Bool {
    var host = Substring(domain)
    if host.hasPrefix("[") {
      guard let close = host.firstIndex(of: "]") else { return false }
      let inner = host[host.index(after: host.startIndex)..<close]
      guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
      host = host[host.index(after: close)...]
      if host.isEmpty { return true }
      guard host.first == ":" else { return false }
      return isPort(host.dropFirst())
    }
    if let colon = host.lastIndex(of: ":") {
      guard isPort(host[host.index(after: colon)...]) else { return false }
      host = host[..<colon]
    }
    guard !host.isEmpty else { return false }
    return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { component in
      // [a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
      guard let first = component.first, let last = component.last,
        first.isASCIIAlphanumeric, last.isASCIIAlphanumeric
      else { return false }
      return component.allSatisfy { $0.isASCIIAlphanumeric || $0 == "-" }
    }
  }

  private static func isPort(_ text: Substring) -> Bool {
    !text.isEmpty && text.allSatisfy(\.isASCIIDigit)
  }

  /// path-component ("/" path-component)*, each `[a-z0-9]+ (separator [a-z0-9]+)*` with separators
  /// `.`, `_`, `__` or one or more `-`.
  static func isValidPath(_ path: String) -> Bool {
    guard !path.isEmpty else { return false }
    return path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { component in
      let bytes = Array(component.utf8)
      guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else {
        return false
      }
      var index = 0
      while index < bytes.count {
        if isLowerAlnum(bytes[index]) {
          index += 1
          continue
        }
        // A separator run: ".", "_", "__" or "-"+, always followed by an alphanumeric.
        var end = index
        if bytes[index] == UInt8(ascii: "-") {
          while end < bytes.count && bytes[end] == UInt8(ascii: "-") { end += 1 }
        } else if bytes[index] == UInt8(ascii: ".") {
          end += 1
        } else if bytes[index] == UInt8(ascii: "_") {
          end += 1
          if end < bytes.count && bytes[end] == UInt8(ascii: "_") { end += 1 }
        } else {
          return false
        }
        guard end < bytes.count, isLowerAlnum(bytes[end]) else { return false }
        index = end
      }
      return true
    }
  }

  /// `[\w][\w.-]{0,127}`
  static func isValidTag(_ tag: String) -> Bool {
    let bytes = Array(tag.utf8)
    guard let first = bytes.first, bytes.count <= 128, isWord(first) else { return false }
    return bytes.allSatisfy { isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
  }

  /// `algorithm ":" hex`, algorithm components `[A-Za-z][A-Za-z0-9]*` joined by `+ . - _`, hex of 32+.
  static func isValidDigest(_ digest: String) -> Bool {
    guard let colon = digest.firstIndex(of: ":") else { return false }
    let algorithm = digest[..<colon]
    let hex = digest[digest.index(after: colon)...]
    guard hex.utf8.count >= 32, hex.utf8.allSatisfy({ isLowerHex($0) || ($0 >= 0x41 && $0 <= 0x46) }) else {
      return false
    }
    let components = algorithm.split(omittingEmptySubsequences: false) { "+.-_".contains($0) }
    return components.allSatisfy { component in
      guard let first = component.first, first.isLetter, first.isASCII else { return false }
      return component.allSatisfy(\.isASCIIAlphanumeric)
    }
  }
}

private func isLowerHex(_ byte: UInt8) -> Bool {
  (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
}

private func isLowerAlnum(_ byte: UInt8) -> Bool {
  (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A)
}

private func isWord(_ byte: UInt8) -> Bool {
  isLowerAlnum(byte) || (byte >= 0x41 && byte <= 0x5A) || byte == UInt8(ascii: "_")
}

extension Character {
  var isASCIIAlphanumeric: Bool {
    guard let ascii = asciiValue else { return false }
    return (ascii >= 0x30 && ascii <= 0x39) || (ascii >= 0x41 && ascii <= 0x5A) || (ascii >= 0x61 && ascii <= 0x7A)
  }
}
